; Go: methods are top level; their container is the receiver's type.
(method_declaration
  receiver: (parameter_list
    (parameter_declaration
      type: [(type_identifier) @container
             (pointer_type (type_identifier) @container)
             (generic_type type: (type_identifier) @container)
             (pointer_type (generic_type type: (type_identifier) @container))]))
  name: (field_identifier) @name) @definition.method
(function_declaration name: (identifier) @name) @definition.function
(type_spec name: (type_identifier) @name type: (struct_type)) @definition.struct
(type_spec name: (type_identifier) @name type: (interface_type)) @definition.interface

; The receiver and the parameters are inputs; named results (`(n int, err error)`)
; are outputs, so the `result` list is left out.
(method_declaration receiver: (parameter_list (parameter_declaration name: (identifier) @parameter)))
(function_declaration
  parameters: (parameter_list [(parameter_declaration name: (identifier) @parameter)
                               (variadic_parameter_declaration name: (identifier) @parameter)]))
(method_declaration
  parameters: (parameter_list [(parameter_declaration name: (identifier) @parameter)
                               (variadic_parameter_declaration name: (identifier) @parameter)]))
