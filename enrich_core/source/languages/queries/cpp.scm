; C++: function definitions with a body (not prototypes, nor `= 0;` / `= default;`,
; whose code is none), through pointer and reference declarators; `Foo::bar`
; defined outside its class names Foo as container.
(function_definition
  declarator: (function_declarator
    declarator: (qualified_identifier
      scope: (_) @container
      name: (qualified_identifier scope: (_) @container name: (_) @name)))
  body: (_)) @definition.method
(function_definition
  declarator: [(function_declarator
                 declarator: (qualified_identifier scope: (_) @container name: (_) @name))
               (pointer_declarator
                 declarator: (function_declarator
                   declarator: (qualified_identifier scope: (_) @container name: (_) @name)))
               (reference_declarator
                 (function_declarator
                   declarator: (qualified_identifier scope: (_) @container name: (_) @name)))]
  body: (_)) @definition.method
(function_definition
  declarator: [(function_declarator
                 declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)
               (pointer_declarator
                 declarator: (function_declarator
                   declarator: [(identifier) (field_identifier) (operator_name)] @name))
               (reference_declarator
                 (function_declarator
                   declarator: [(identifier) (field_identifier) (operator_name)] @name))]
  body: (_)) @definition.function
; An explicit specialisation, `template <> void put<wchar_t>(...) {...}`: named `put`.
(function_definition
  declarator: [(function_declarator declarator: (template_function name: (_) @name))
               (pointer_declarator
                 declarator: (function_declarator declarator: (template_function name: (_) @name)))
               (reference_declarator
                 (function_declarator declarator: (template_function name: (_) @name)))]
  body: (_)) @definition.function
(class_specifier name: (type_identifier) @name body: (_)) @definition.class
(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
(union_specifier name: (type_identifier) @name body: (_)) @definition.struct
(enum_specifier name: (type_identifier) @name body: (_)) @definition.enum
; A class template specialisation, `struct formatter<std::tm, Char> {...}`: named `formatter`.
(class_specifier name: (template_type name: (type_identifier) @name) body: (_)) @definition.class
(struct_specifier name: (template_type name: (type_identifier) @name) body: (_)) @definition.struct
(type_definition
  type: [(struct_specifier !name body: (_)) (class_specifier !name body: (_))]
  declarator: (type_identifier) @name) @definition.struct
(namespace_definition name: (_) @name) @scope.namespace

(function_declarator parameters: (parameter_list (parameter_declaration declarator: (identifier) @parameter)))
(function_declarator parameters: (parameter_list (parameter_declaration declarator: [(pointer_declarator declarator: (identifier) @parameter) (reference_declarator (identifier) @parameter)])))
(function_declarator parameters: (parameter_list (optional_parameter_declaration declarator: (identifier) @parameter)))
