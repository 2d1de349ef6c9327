; Rust: an impl block is not a span; it names the type its functions belong to.
(impl_item
  type: [(type_identifier) @name
         (generic_type type: (type_identifier) @name)
         (scoped_type_identifier name: (type_identifier) @name)
         (generic_type type: (scoped_type_identifier name: (type_identifier) @name))]) @scope.type
; `impl Trait for &'a mut Type`: the functions are Type's too.
(impl_item
  type: (reference_type
          type: [(type_identifier) @name
                 (generic_type type: (type_identifier) @name)
                 (scoped_type_identifier name: (type_identifier) @name)
                 (generic_type type: (scoped_type_identifier name: (type_identifier) @name))])) @scope.type
(mod_item name: (identifier) @name body: (_)) @scope.namespace
(function_item name: (identifier) @name) @definition.function
(struct_item name: (type_identifier) @name) @definition.struct
(enum_item name: (type_identifier) @name) @definition.enum
(union_item name: (type_identifier) @name) @definition.struct
(trait_item name: (type_identifier) @name) @definition.trait
(macro_definition name: (identifier) @name) @definition.function

(parameters (parameter pattern: (identifier) @parameter))
(parameters (parameter pattern: (mut_pattern (identifier) @parameter)))
(parameters (self_parameter (self) @parameter))
