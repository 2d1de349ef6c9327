; Python: every def and class, at any depth.
(function_definition name: (identifier) @name) @definition.function
(class_definition name: (identifier) @name) @definition.class

(parameters (identifier) @parameter)
(parameters (typed_parameter . (identifier) @parameter))
(parameters (default_parameter name: (identifier) @parameter))
(parameters (typed_default_parameter name: (identifier) @parameter))
(parameters (list_splat_pattern (identifier) @parameter))
(parameters (dictionary_splat_pattern (identifier) @parameter))
(parameters (typed_parameter (list_splat_pattern (identifier) @parameter)))
(parameters (typed_parameter (dictionary_splat_pattern (identifier) @parameter)))
