; Ruby facts (captures in README.md, "Facts queries").

; `items.push(x)`, `File.write(p, s)`, `puts x`, `items.each { ... }`: Ruby writes no
; callee node of its own, so the callee is the call up to the end of its `@call.name`.
; A bare name in an expression (`total = subtotal`) may be a local: not taken as a call.
((call method: (_) @call.name) @call
  (#not-match? @call.name "^(raise|fail)$"))
; `` `ls -l` ``, `%x(ls)`: a command run by the shell.
(subshell) @call
; A bare name standing as a statement before another, or under a modifier, is a
; method called for its effect (a local there would do nothing): `persist` in
; `validate!; persist; notify if changed?`. Last, it may be a local returned.
((body_statement (identifier) @call . (_)) (#not-match? @call "^(raise|fail)$"))
((then (identifier) @call . (_)) (#not-match? @call "^(raise|fail)$"))
((else (identifier) @call . (_)) (#not-match? @call "^(raise|fail)$"))
((block_body (identifier) @call . (_)) (#not-match? @call "^(raise|fail)$"))
((if_modifier body: (identifier) @call) (#not-match? @call "^(raise|fail)$"))
((unless_modifier body: (identifier) @call) (#not-match? @call "^(raise|fail)$"))

; `raise ArgumentError, "bad"`, `raise Errors::Bad.new("x")`, `fail IOError`.
((call
   method: (identifier) @_raise
   arguments: (argument_list . [(constant) (scope_resolution)] @raise.type)) @raise
  (#match? @_raise "^(raise|fail)$"))
((call
   method: (identifier) @_raise
   arguments: (argument_list . (call
                                 receiver: [(constant) (scope_resolution)] @raise.type
                                 method: (identifier) @_new))) @raise
  (#match? @_raise "^(raise|fail)$")
  (#eq? @_new "new"))
; `raise error`, `raise @error`: what is raised as written.
((call
   method: (identifier) @_raise
   arguments: (argument_list . [(identifier) (instance_variable)] @raise.type)) @raise
  (#match? @_raise "^(raise|fail)$"))
((call method: (identifier) @_raise) @raise
  (#match? @_raise "^(raise|fail)$"))
; `raise` with no arguments (a re-raise, or a RuntimeError) is a bare identifier.
((body_statement (identifier) @raise) (#match? @raise "^(raise|fail)$"))
((then (identifier) @raise) (#match? @raise "^(raise|fail)$"))
((else (identifier) @raise) (#match? @raise "^(raise|fail)$"))
((if_modifier body: (identifier) @raise) (#match? @raise "^(raise|fail)$"))
((unless_modifier body: (identifier) @raise) (#match? @raise "^(raise|fail)$"))
; A bare `raise` re-raises what the `rescue` around it caught (its first class).
(rescue exceptions: (exceptions . (_) @raise.caught.type)) @raise.caught

; `a, b = pair` binds names: only its parts that write into an object are writes.
(assignment
  left: [(identifier) (instance_variable) (global_variable) (class_variable)
         (element_reference) (call)] @assign)
(operator_assignment
  left: [(identifier) (instance_variable) (global_variable) (class_variable)
         (element_reference) (call)] @assign)
(left_assignment_list
  [(instance_variable) (global_variable) (class_variable) (element_reference) (call)] @assign)
; `items << x` as a statement: Array#<< and String#<< append in place.
(body_statement (binary left: (_) @assign.into operator: "<<"))
(then (binary left: (_) @assign.into operator: "<<"))
(else (binary left: (_) @assign.into operator: "<<"))
(do (binary left: (_) @assign.into operator: "<<"))
(block_body (binary left: (_) @assign.into operator: "<<"))
(if_modifier body: (binary left: (_) @assign.into operator: "<<"))
(unless_modifier body: (binary left: (_) @assign.into operator: "<<"))

; Global and class variables: state shared beyond the call.
(global_variable) @global
(class_variable) @global
; A constant is module state: `CACHE[key] = v`, `Registry.current = x`, `SEEN << id`
; (the library's File, Dir, IO and ENV are effects of their own kinds).
(((constant) @global) (#not-match? @global "^(File|Dir|IO|ENV)$"))

; `ENV["HOME"]` (`ENV.fetch("X")` is a call).
(element_reference object: (constant) @access)
