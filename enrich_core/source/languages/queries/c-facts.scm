; C facts (captures in README.md, "Facts queries"). C has no exceptions: no raises.

; A stream function is a file's only when its stream is no standard one: writing
; to `stderr` is output, reading `stdin` input (the row's accesses say which).
((call_expression function: (_) @call)
  (#not-match? @call "^(fprintf|vfprintf|fscanf|vfscanf|fflush|setvbuf|setbuf|feof|ferror|clearerr|fileno|fputs|fputc|putc|fwrite|fgets|fgetc|getc|fread|getline|getdelim)$"))
((call_expression function: (_) @call arguments: (argument_list . (_) @_stream))
  (#match? @call "^(fprintf|vfprintf|fscanf|vfscanf|fflush|setvbuf|setbuf|feof|ferror|clearerr|fileno)$")
  (#not-match? @_stream "^(stdin|stdout|stderr)$"))
((call_expression function: (_) @call arguments: (argument_list (_) @_stream .))
  (#match? @call "^(fputs|fputc|putc|fwrite|fgets|fgetc|getc|fread|getline|getdelim)$")
  (#not-match? @_stream "^(stdin|stdout|stderr)$"))
((call_expression function: (_) @_call arguments: (argument_list . (identifier) @access))
  (#match? @_call "^(fprintf|vfprintf|fscanf|vfscanf|fflush|setvbuf|setbuf|feof|ferror|clearerr|fileno)$")
  (#match? @access "^(stdin|stdout|stderr)$"))
((call_expression function: (_) @_call arguments: (argument_list (identifier) @access .))
  (#match? @_call "^(fputs|fputc|putc|fwrite|fgets|fgetc|getc|fread|getline|getdelim)$")
  (#match? @access "^(stdin|stdout|stderr)$"))

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

; Parameters through which the caller's memory is written: pointers and arrays.
(parameter_declaration declarator: (pointer_declarator declarator: (identifier) @parameter.shared))
(parameter_declaration declarator: (array_declarator declarator: (identifier) @parameter.shared))
