; Java: classes and their kin, methods and constructors (interface methods
; without a body show in the interface's outline).
(class_declaration name: (identifier) @name) @definition.class
(interface_declaration name: (identifier) @name) @definition.interface
(enum_declaration name: (identifier) @name) @definition.enum
(record_declaration name: (identifier) @name) @definition.class
(annotation_type_declaration name: (identifier) @name) @definition.interface
(method_declaration name: (identifier) @name body: (block)) @definition.method
(constructor_declaration name: (identifier) @name) @definition.method
(compact_constructor_declaration name: (identifier) @name) @definition.method

(formal_parameters (formal_parameter name: (identifier) @parameter))
(formal_parameters (spread_parameter (variable_declarator name: (identifier) @parameter)))
(record_declaration parameters: (formal_parameters (formal_parameter name: (identifier) @parameter)))
