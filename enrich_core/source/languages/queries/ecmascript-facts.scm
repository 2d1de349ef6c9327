; JavaScript, TypeScript and TSX facts (captures in README.md, "Facts queries").
; javascript-facts.scm / typescript-facts.scm hold a grammar's own forms, if any.

(call_expression function: (_) @call)
; A constructor runs code as a call does: `new XMLHttpRequest()`, `new URL(s)`.
(new_expression constructor: (_) @call)

(throw_statement (new_expression constructor: (_) @raise.type)) @raise
; `throw Error("x")`: the built-in errors are built by a plain call too.
((throw_statement (call_expression function: (identifier) @raise.type)) @raise
  (#match? @raise.type "^(Error|TypeError|RangeError|SyntaxError|ReferenceError|EvalError|URIError|AggregateError)$"))
(throw_statement) @raise

; Destructuring (`[a, b] = pair`) binds names and writes into nothing.
(assignment_expression
  left: [(identifier) (member_expression) (subscript_expression)] @assign)
(augmented_assignment_expression
  left: [(identifier) (member_expression) (subscript_expression)] @assign)
(update_expression argument: (_) @assign)
; `delete obj.key` takes a property out: the object changes as by a write.
(unary_expression operator: "delete" argument: (_) @assign)

; The global object and CommonJS's module: `window.x = `, `module.exports = `.
((identifier) @global
  (#match? @global "^(globalThis|window|global|module|exports)$"))
; A module constant's object changed: `CACHE.set(key, value)`, `REGISTRY[name] = fn`.
((call_expression function: (member_expression object: (identifier) @global))
  (#match? @global "^[A-Z][A-Z0-9_]+$"))
((assignment_expression left: (subscript_expression object: (identifier) @global))
  (#match? @global "^[A-Z][A-Z0-9_]+$"))

; `process.env.HOME`: an effect with no call (the row's accesses say which).
(member_expression) @access
