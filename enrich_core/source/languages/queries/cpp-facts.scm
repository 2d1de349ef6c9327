; C++ facts (captures in README.md, "Facts queries").

; A stream function is a file's only when its stream is no standard one: writing
; to `stderr` is output, reading `stdin` input (the row's accesses say which).
((call_expression function: (_) @call)
  (#not-match? @call "^(std::|::)?(fprintf|vfprintf|fscanf|vfscanf|fflush|setvbuf|setbuf|feof|ferror|clearerr|fileno|fputs|fputc|putc|fwrite|fgets|fgetc|getc|fread|getline|getdelim)$"))
((call_expression function: (_) @call arguments: (argument_list . (_) @_stream))
  (#match? @call "^(std::|::)?(fprintf|vfprintf|fscanf|vfscanf|fflush|setvbuf|setbuf|feof|ferror|clearerr|fileno)$")
  (#not-match? @_stream "^(std::)?(stdin|stdout|stderr)$"))
((call_expression function: (_) @call arguments: (argument_list (_) @_stream .))
  (#match? @call "^(std::|::)?(fputs|fputc|putc|fwrite|fgets|fgetc|getc|fread|getline|getdelim)$")
  (#not-match? @_stream "^(std::)?(stdin|stdout|stderr)$"))
((call_expression function: (_) @_call arguments: (argument_list . [(identifier) (qualified_identifier)] @access))
  (#match? @_call "^(std::|::)?(fprintf|vfprintf|fscanf|vfscanf|fflush|setvbuf|setbuf|feof|ferror|clearerr|fileno)$")
  (#match? @access "^(std::)?(stdin|stdout|stderr)$"))
((call_expression function: (_) @_call arguments: (argument_list [(identifier) (qualified_identifier)] @access .))
  (#match? @_call "^(std::|::)?(fputs|fputc|putc|fwrite|fgets|fgetc|getc|fread|getline|getdelim)$")
  (#match? @access "^(std::)?(stdin|stdout|stderr)$"))
(new_expression type: (_) @call)
; A variable built by its constructor: `std::ofstream out(path);`, `std::ifstream in{path};`.
(declaration
  type: (_) @call
  declarator: (init_declarator value: [(argument_list) (initializer_list)]))
; The grammar reads `std::ofstream out(path);` in a body as a function's declaration
; (the "most vexing parse"); in a body it is nearly always an object built.
(compound_statement
  (declaration
    type: [(qualified_identifier) (type_identifier) (template_type)] @call
    declarator: (function_declarator)))

; `throw std::runtime_error("...")`, `throw Error{...}`, `throw new Error(...)`.
(throw_statement (call_expression function: (_) @raise.type)) @raise
(throw_statement (compound_literal_expression type: (_) @raise.type)) @raise
(throw_statement (new_expression type: (_) @raise.type)) @raise
(throw_statement (identifier) @raise.type) @raise
(throw_statement) @raise
; A bare `throw;` rethrows what the `catch` around it caught (`catch (...)` names nothing).
(catch_clause
  parameters: (parameter_list (parameter_declaration type: (_) @raise.caught.type))) @raise.caught

(assignment_expression
  left: [(identifier) (field_expression) (subscript_expression) (pointer_expression)] @assign)
(update_expression argument: (_) @assign)

; `static int calls;` in a function: state that outlives the call.
((declaration
   (storage_class_specifier) @_static
   declarator: [(identifier) @global
                (array_declarator declarator: (identifier) @global)
                (pointer_declarator declarator: (identifier) @global)
                (init_declarator declarator: [(identifier) @global
                                              (array_declarator declarator: (identifier) @global)
                                              (pointer_declarator declarator: (identifier) @global)])])
  (#eq? @_static "static"))

; Parameters the caller shares: pointers and references (`T*`, `T&`, `T&&`).
(parameter_declaration declarator: (pointer_declarator declarator: (identifier) @parameter.shared))
(parameter_declaration declarator: (reference_declarator (identifier) @parameter.shared))
(optional_parameter_declaration declarator: (pointer_declarator declarator: (identifier) @parameter.shared))
(optional_parameter_declaration declarator: (reference_declarator (identifier) @parameter.shared))

; `os << x;` as a statement writes into the stream on its left (a parameter's, or
; `std::cout`): an operator, not a call.
(expression_statement (binary_expression left: (_) @assign.into operator: "<<"))
; `std::cout << x`: output written with an operator; the stream is the leftmost
; operand of the chain (the row's accesses say which streams).
(binary_expression left: [(identifier) (qualified_identifier)] @access operator: "<<")
