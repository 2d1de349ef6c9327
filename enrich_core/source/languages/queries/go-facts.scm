; Go facts (captures in README.md, "Facts queries"). Go returns errors; a panic is its raise.
(call_expression function: (_) @call)

((call_expression function: (identifier) @_panic) @raise
  (#eq? @_panic "panic"))

(assignment_statement left: (expression_list (_) @assign))
(inc_statement (_) @assign)
(dec_statement (_) @assign)
; A send writes into the channel its target names, even a bare name.
(send_statement channel: (_) @assign.into)

; Parameters whose argument the caller shares: a write through them is seen outside.
(parameter_declaration
  name: (identifier) @parameter.shared
  type: [(pointer_type) (slice_type) (map_type) (channel_type)])
