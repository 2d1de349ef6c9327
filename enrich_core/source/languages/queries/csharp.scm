; C#: types, methods, constructors and properties. Namespaces are left out of
; qualified names: a file-scoped `namespace X;` does not contain its types in
; the tree, and `Ledger.Apply` is what a reader searches for.
(class_declaration name: (identifier) @name) @definition.class
(struct_declaration name: (identifier) @name) @definition.struct
(interface_declaration name: (identifier) @name) @definition.interface
(enum_declaration name: (identifier) @name) @definition.enum
(record_declaration name: (identifier) @name) @definition.class
(method_declaration name: (identifier) @name body: (_)) @definition.method
(constructor_declaration name: (identifier) @name) @definition.method
(destructor_declaration name: (identifier) @name) @definition.method
; A property with code: an accessor with a body, or `=> expr`. An auto-property
; (`{ get; set; }`) has none to gloss; it shows in its type's outline.
(property_declaration name: (identifier) @name accessors: (accessor_list (accessor_declaration body: (_)))) @definition.method
(property_declaration name: (identifier) @name value: (arrow_expression_clause)) @definition.method
(local_function_statement name: (identifier) @name) @definition.function

(parameter_list (parameter name: (identifier) @parameter))
(parameter_list name: (identifier) @parameter)
