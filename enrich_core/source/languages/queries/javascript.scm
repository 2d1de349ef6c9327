; JavaScript's own forms; ecmascript.scm holds the shared ones.
; Class fields holding a function: handler = (e) => {}
(field_definition
  property: (_) @name
  value: [(arrow_function) (function_expression)]) @definition.method

(formal_parameters (identifier) @parameter)
(formal_parameters (assignment_pattern left: (identifier) @parameter))
(formal_parameters (rest_pattern (identifier) @parameter))
; A destructured object parameter, `({ label, start = 0 })`: its keys are the inputs.
(formal_parameters (object_pattern (shorthand_property_identifier_pattern) @parameter))
(formal_parameters (object_pattern (object_assignment_pattern left: (shorthand_property_identifier_pattern) @parameter)))
(formal_parameters (assignment_pattern left: (object_pattern (shorthand_property_identifier_pattern) @parameter)))
