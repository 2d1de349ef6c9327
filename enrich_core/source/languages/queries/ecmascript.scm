; What JavaScript, TypeScript and TSX share. Wildcards for names: TypeScript
; names classes with type_identifier, JavaScript with identifier.
(method_definition name: (_) @name) @definition.method
(function_declaration name: (_) @name) @definition.function
(generator_function_declaration name: (_) @name) @definition.function
(class_declaration name: (_) @name) @definition.class
; A named class expression: `module.exports = class Agent extends Base {...}`.
(class name: (_) @name) @definition.class
; const f = () => {} and const f = function () {}: the declarator is the span.
(variable_declarator
  name: (identifier) @name
  value: [(arrow_function) (function_expression) (generator_function)]) @definition.function
; module.exports.f = function () {} / obj.f = () => {}
(assignment_expression
  left: (member_expression property: (property_identifier) @name)
  right: [(arrow_function) (function_expression)]) @definition.function

(arrow_function parameter: (identifier) @parameter)
; Error recovery can turn `function f() {}` after a broken one into an
; expression inside the ERROR node: still a declaration to a reader.
(ERROR (function_expression name: (identifier) @name) @definition.function)
