; Java facts (captures in README.md, "Facts queries").

; `items.add(x)`, `Files.readString(p)`: Java writes no callee node of its own,
; so the callee is the invocation up to the end of its `@call.name`.
(method_invocation name: (_) @call.name) @call
; A constructor runs code as a call does: `new FileInputStream(path)`.
(object_creation_expression type: (_) @call)

(throw_statement (object_creation_expression type: (_) @raise.type)) @raise
(throw_statement) @raise

(assignment_expression left: [(identifier) (field_access) (array_access)] @assign)
(update_expression (_) @assign)

; Static state: a field written through its class (`Registry.current = this`; fields
; are camelCase, classes not), or a constant's object changed (`CACHE.put(k, v)`).
((assignment_expression left: (field_access object: (identifier) @global))
  (#match? @global "^[A-Z]"))
((update_expression (field_access object: (identifier) @global))
  (#match? @global "^[A-Z]"))
; A VarHandle constant (`ITEM.set(this, x)`) writes the object it is given instead.
((method_invocation object: (identifier) @global arguments: (argument_list) @_arguments)
  (#match? @global "^[A-Z][A-Z0-9_]+$")
  (#not-match? @_arguments "^[(][ \t\n]*this[ \t\n]*,"))
