; Ruby: methods (`def`, `def self.x`), classes and modules.
(method name: (_) @name) @definition.function
(singleton_method name: (_) @name) @definition.method
(class name: [(constant) (scope_resolution)] @name) @definition.class
(module name: [(constant) (scope_resolution)] @name) @definition.module

(method_parameters (identifier) @parameter)
(method_parameters (optional_parameter name: (identifier) @parameter))
(method_parameters (splat_parameter name: (identifier) @parameter))
(method_parameters (hash_splat_parameter name: (identifier) @parameter))
(method_parameters (block_parameter name: (identifier) @parameter))
(method_parameters (keyword_parameter name: (identifier) @parameter))
