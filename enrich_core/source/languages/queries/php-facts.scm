; PHP facts (captures in README.md, "Facts queries").

(function_call_expression function: (_) @call)
; `$list->add($x)`, `Foo::bar()`: PHP writes no callee node of its own, so the
; callee is the call up to the end of its `@call.name`.
(member_call_expression name: (_) @call.name) @call
(nullsafe_member_call_expression name: (_) @call.name) @call
(scoped_call_expression name: (_) @call.name) @call
; A constructor runs code as a call does: `new SplFileObject($path)`.
(object_creation_expression . [(name) (qualified_name)] @call)
; The language's own output statements, and `` `ls` `` run by the shell.
(echo_statement "echo" @call)
(print_intrinsic "print" @call)
(shell_command_expression) @call
; Code read from another file and run: `require_once __DIR__ . '/config.php'`.
(include_expression "include" @call)
(include_once_expression "include_once" @call)
(require_expression "require" @call)
(require_once_expression "require_once" @call)

(throw_expression (object_creation_expression . [(name) (qualified_name)] @raise.type)) @raise
(throw_expression) @raise

; A bare variable is written as its name (`$total =` as `total`), matched against
; the parameters and `global` names; `$a->x`, `$a[] ` write into what `$a` names.
(assignment_expression left: (variable_name (name) @assign))
(assignment_expression left: [(member_access_expression) (nullsafe_member_access_expression)
                              (subscript_expression) (scoped_property_access_expression)] @assign)
(reference_assignment_expression left: (variable_name (name) @assign))
(augmented_assignment_expression left: (variable_name (name) @assign))
(augmented_assignment_expression
  left: [(member_access_expression) (nullsafe_member_access_expression)
         (subscript_expression) (scoped_property_access_expression)] @assign)
(update_expression argument: (variable_name (name) @assign))
(update_expression
  argument: [(member_access_expression) (nullsafe_member_access_expression)
             (subscript_expression) (scoped_property_access_expression)] @assign)
; `unset($list[$key])` takes an item out: the array changes as by a write.
(unset_statement [(member_access_expression) (subscript_expression)] @assign)

; `global $config;` and `static $cache;` name state that outlives the call.
(global_declaration (variable_name (name) @global))
(function_static_declaration (static_variable_declaration name: (variable_name (name) @global)))
; A class's static property (`self::$count`, `static::$cache`, `Registry::$items`).
(scoped_property_access_expression scope: (_) @global)

; Parameters the caller shares: by reference (`&$items`) or an object (a class type).
(simple_parameter type: (named_type) name: (variable_name (name) @parameter.shared))
(simple_parameter reference_modifier: (_) name: (variable_name (name) @parameter.shared))

; `$_ENV['X']`: the environment read as an array.
(variable_name) @access
