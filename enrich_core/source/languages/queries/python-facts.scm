; Python facts (captures in README.md, "Facts queries").
(call function: (_) @call)

(raise_statement . (call function: (_) @raise.type)) @raise
(raise_statement . [(identifier) (attribute)] @raise.type) @raise
(raise_statement) @raise
; A bare `raise` re-raises what the `except` around it caught.
(except_clause value: [(identifier) (attribute) (tuple)] @raise.caught.type) @raise.caught
(except_clause value: (as_pattern . [(identifier) (attribute) (tuple)] @raise.caught.type)) @raise.caught

(assignment left: [(identifier) (attribute) (subscript)] @assign)
(assignment left: [(pattern_list [(identifier) (attribute) (subscript)] @assign)
                   (tuple_pattern [(identifier) (attribute) (subscript)] @assign)
                   (list_pattern [(identifier) (attribute) (subscript)] @assign)])
(augmented_assignment left: [(identifier) (attribute) (subscript)] @assign)
(delete_statement [(attribute) (subscript)] @assign)
(delete_statement (expression_list [(attribute) (subscript)] @assign))

(global_statement (identifier) @global)
(nonlocal_statement (identifier) @global)

(attribute) @access
