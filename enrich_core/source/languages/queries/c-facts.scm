; C facts (captures in README.md, "Facts queries"). C has no exceptions: no raises.

(call_expression function: (_) @call)

(assignment_expression
  left: [(identifier) (field_expression) (subscript_expression) (pointer_expression)] @assign)
(update_expression argument: (_) @assign)

; `static int calls;` in a function: state that outlives the call.
((declaration
   (storage_class_specifier) @_static
   declarator: [(identifier) @global
                (array_declarator declarator: (identifier) @global)
                (pointer_declarator declarator: (identifier) @global)
                (init_declarator declarator: [(identifier) @global
                                              (array_declarator declarator: (identifier) @global)
                                              (pointer_declarator declarator: (identifier) @global)])])
  (#eq? @_static "static"))

; Parameters through which the caller's memory is written: pointers and arrays.
(parameter_declaration declarator: (pointer_declarator declarator: (identifier) @parameter.shared))
(parameter_declaration declarator: (array_declarator declarator: (identifier) @parameter.shared))
