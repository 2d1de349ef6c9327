; C# facts (captures in README.md, "Facts queries").

; `nameof(x)` is read by the compiler, never called.
((invocation_expression function: (_) @call)
  (#not-eq? @call "nameof"))
; A constructor runs code as a call does: `new StreamReader(path)`, `new HttpClient()`.
(object_creation_expression type: (_) @call)

(throw_statement (object_creation_expression type: (_) @raise.type)) @raise
(throw_expression (object_creation_expression type: (_) @raise.type)) @raise
; `throw error;`, `throw Errors.Bad(x);`: what is thrown as written.
(throw_statement (identifier) @raise.type) @raise
(throw_statement (invocation_expression function: (_) @raise.type)) @raise
(throw_statement) @raise
(throw_expression) @raise
; A bare `throw;` rethrows what the `catch` around it caught.
(catch_clause (catch_declaration type: (_) @raise.caught.type)) @raise.caught

(assignment_expression
  left: [(identifier) (member_access_expression) (element_access_expression)] @assign)
(postfix_unary_expression (_) @assign ["++" "--"])
(prefix_unary_expression ["++" "--"] (_) @assign)
