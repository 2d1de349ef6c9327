; PHP: functions, classes and their kin, methods with a body (an interface's
; show in its outline). Namespaces are left out of qualified names, as in C#:
; the usual `namespace App\Shop;` does not contain its classes in the tree, and
; `Cart.add` is what a reader searches for.
(function_definition name: (name) @name) @definition.function
(class_declaration name: (name) @name) @definition.class
(interface_declaration name: (name) @name) @definition.interface
(trait_declaration name: (name) @name) @definition.trait
(enum_declaration name: (name) @name) @definition.enum
(method_declaration name: (name) @name body: (_)) @definition.method

(formal_parameters (simple_parameter name: (variable_name (name) @parameter)))
(formal_parameters (variadic_parameter name: (variable_name (name) @parameter)))
(formal_parameters (property_promotion_parameter name: (variable_name (name) @parameter)))
