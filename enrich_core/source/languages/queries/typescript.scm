; TypeScript and TSX: the forms JavaScript lacks; ecmascript.scm follows.
(interface_declaration name: (_) @name) @definition.interface
(abstract_class_declaration name: (_) @name) @definition.class
(enum_declaration name: (_) @name) @definition.enum
(internal_module name: (_) @name) @scope.namespace
(function_signature name: (_) @name) @definition.function
(public_field_definition
  name: (_) @name
  value: [(arrow_function) (function_expression)]) @definition.method

(formal_parameters (required_parameter pattern: (identifier) @parameter))
(formal_parameters (optional_parameter pattern: (identifier) @parameter))
(formal_parameters (required_parameter pattern: (rest_pattern (identifier) @parameter)))
; A destructured object parameter, `({ label, start = 0 }: Props)`: its keys are the inputs.
(formal_parameters (required_parameter pattern: (object_pattern (shorthand_property_identifier_pattern) @parameter)))
(formal_parameters (required_parameter pattern: (object_pattern (object_assignment_pattern left: (shorthand_property_identifier_pattern) @parameter))))
(formal_parameters (optional_parameter pattern: (object_pattern (shorthand_property_identifier_pattern) @parameter)))
