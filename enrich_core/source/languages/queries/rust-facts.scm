; Rust facts (captures in README.md, "Facts queries"). `?` hands an error back: not a raise.

(call_expression function: (_) @call)
; A macro runs code as a call does: `println!`, `log::info!` (the callee ends at its `!`).
(macro_invocation macro: (_) "!" @call.name) @call

; `panic!`, `unreachable!`, `todo!`, `unimplemented!` and the assertions panic (the
; row's untyped_raise names it).
((macro_invocation macro: (identifier) @_panic) @raise
  (#match? @_panic "^(panic|unreachable|todo|unimplemented|assert|assert_eq|assert_ne)$"))

(assignment_expression
  left: [(identifier) (field_expression) (index_expression) (unary_expression)] @assign)
(compound_assignment_expr
  left: [(identifier) (field_expression) (index_expression) (unary_expression)] @assign)

; A `static mut` can only be written in `unsafe` code, and statics are named in
; upper case: `unsafe { COUNTER += 1; }`.
((unsafe_block
   (block (expression_statement
     [(assignment_expression left: (identifier) @global)
      (compound_assignment_expr left: (identifier) @global)])))
  (#match? @global "^[A-Z][A-Z0-9_]*$"))

; Parameters the caller shares: `&mut T` (a `&T` cannot be written through) and `&mut self`.
(parameter pattern: (identifier) @parameter.shared
  type: (reference_type (mutable_specifier)))
(parameter pattern: (mut_pattern (identifier) @parameter.shared)
  type: (reference_type (mutable_specifier)))
(self_parameter "&" (mutable_specifier) (self) @parameter.shared)
