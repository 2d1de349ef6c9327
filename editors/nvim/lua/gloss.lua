-- Gloss for Neovim (0.7+): starts `gloss serve` beside your language server.
--
--   require('gloss').setup({
--     cmd = { 'gloss', 'serve' },   -- how to start the server
--     filetypes = M.FILETYPES,       -- buffers that get a Gloss client: every
--                                    -- language Gloss indexes (python, javascript,
--                                    -- javascriptreact, typescript, typescriptreact,
--                                    -- go, rust, java, c, cpp, cs, ruby, php)
--     settings = nil,                -- the structure of gloss.toml; sent as
--                                    -- initializationOptions = { gloss = settings }
--                                    -- and it wins over the workspace's gloss.toml
--     root_markers = { 'gloss.toml', { 'pyproject.toml', '.git' } },
--     root_dir = nil,                -- function(path, bufnr) -> directory | nil
--     on_attach = nil,               -- function(client, bufnr), as for any LSP client
--     capabilities = nil,            -- merged into Neovim's client capabilities
--     cmd_env = nil, flags = nil,    -- passed through to the LSP client
--   })
--
-- The root of a buffer is found upward from its file: the nearest directory
-- with a gloss.toml; else the nearest with a pyproject.toml or a .git (entries
-- of `root_markers` are tried in order; a nested list is one entry whose names
-- are equally good). A file with no root gets no client (Gloss would otherwise
-- index whatever directory the file happens to be in). There is one client,
-- hence one `gloss serve`, per root, shared by all of that root's buffers.
--
-- Commands (on the Gloss client of the current buffer):
--   :GlossStatus       gloss/status, one summary line per workspace folder
--   :GlossHover        the Gloss hover alone (Neovim < 0.11 shows one client's hover)
--   :GlossRegloss      gloss the span at the cursor again (gloss.server.regloss)
--   :GlossReglossFile  the same for every span of the file (gloss.server.reglossFile)
--   :GlossEscalate     gloss the span at the cursor with the next tier (gloss.server.escalate)
--   :GlossSearch {query}  gloss/search: functions by what they do (or by name), best
--                      first, in the quickfix list as "kind qualname — summary"
--                      (from a buffer with no Gloss client: every Gloss client)
--
-- `require('gloss').search(query, opts)` answers the same items to Lua, in the
-- server's order, for a picker that must not re-filter them by name (telescope,
-- fzf-lua: editors/nvim/README.md has both pickers).
--
-- `require('gloss').statusline()` is a short "gloss: ..." string from the
-- latest gloss/progress of the current buffer's root; the User autocmd
-- `GlossProgress` fires at each of those notifications.
--
-- Protocol: docs/client-protocol.md in the Gloss repository.

local M = {}

local uv = vim.uv or vim.loop
local api = vim.api

local NAME = 'gloss'
local HAS_START = vim.lsp.start ~= nil -- 0.8+
local METHOD_CALLS = vim.fn.has('nvim-0.11') == 1 -- client:request() rather than client.request()

--- The Neovim filetypes of the languages Gloss indexes. A buffer needs a Gloss client
--- for Gloss's hovers, and also for Gloss's results in `vim.lsp.buf.workspace_symbol`,
--- which asks only the clients attached to the current buffer.
M.FILETYPES = {
  'python',
  'javascript', 'javascriptreact',
  'typescript', 'typescriptreact',
  'go', 'rust', 'java',
  'c', 'cpp', 'cs',
  'ruby', 'php',
}

-- Suffixes of sources Gloss indexes that Neovim leaves without a filetype: .mts and
-- .cts before 0.8, .h++ in every version so far.
local UNDETECTED = { mts = 'typescript', cts = 'typescript', ['h++'] = 'cpp' }

local defaults = {
  cmd = { 'gloss', 'serve' },
  filetypes = M.FILETYPES,
  settings = nil,
  root_markers = { 'gloss.toml', { 'pyproject.toml', '.git' } },
  root_dir = nil,
  on_attach = nil,
  capabilities = nil,
  cmd_env = nil,
  flags = nil,
}

M.config = vim.deepcopy(defaults)

local clients_by_root = {} -- 0.7 only: root -> client id (vim.lsp.start reuses by itself)
local progress_by_root = {} -- root -> the latest gloss/progress params

local function notify(message, level)
  vim.notify('Gloss: ' .. message, level or vim.log.levels.INFO)
end

-- Client methods are closures before 0.11 and methods (with self) from 0.11 on.
local function call(client, method, ...)
  if METHOD_CALLS then
    return client[method](client, ...)
  end
  return client[method](...)
end

local function is_dir(path)
  local stat = uv.fs_stat(path)
  return stat ~= nil and stat.type == 'directory'
end

local function exists(path)
  return uv.fs_stat(path) ~= nil
end

local function parent(dir)
  local up = vim.fn.fnamemodify(dir, ':h')
  if up == dir then
    return nil
  end
  return up
end

-- The nearest directory at or above `dir` holding one of `names`.
local function find_upward(dir, names)
  while dir do
    for _, name in ipairs(names) do
      if exists(dir .. '/' .. name) then
        return dir
      end
    end
    dir = parent(dir)
  end
  return nil
end

--- The Gloss root for a file path, by `config.root_markers` (or `config.root_dir`).
function M.find_root(path, bufnr)
  if M.config.root_dir then
    return M.config.root_dir(path, bufnr)
  end
  local start = is_dir(path) and path or vim.fn.fnamemodify(path, ':h')
  for _, entry in ipairs(M.config.root_markers) do
    local names = type(entry) == 'table' and entry or { entry }
    local root = find_upward(start, names)
    if root then
      return root
    end
  end
  return nil
end

local function on_progress(err, result)
  if err or type(result) ~= 'table' or not result.root then
    return
  end
  progress_by_root[result.root] = result
  pcall(api.nvim_exec_autocmds, 'User', { pattern = 'GlossProgress', modeline = false })
end

local function client_config(root)
  local cfg = M.config
  local capabilities = vim.lsp.protocol.make_client_capabilities()
  if cfg.capabilities then
    capabilities = vim.tbl_deep_extend('force', capabilities, cfg.capabilities)
  end
  local init_options = nil
  if type(cfg.settings) == 'table' and next(cfg.settings) ~= nil then
    init_options = { gloss = cfg.settings }
  end
  return {
    name = NAME,
    cmd = cfg.cmd,
    cmd_env = cfg.cmd_env,
    root_dir = root,
    workspace_folders = {
      { uri = vim.uri_from_fname(root), name = vim.fn.fnamemodify(root, ':t') },
    },
    -- Not `settings`: Neovim sends those in a workspace/didChangeConfiguration
    -- right after `initialized`, and the server restarts its engines on it.
    init_options = init_options,
    capabilities = capabilities,
    handlers = { ['gloss/progress'] = on_progress },
    on_attach = cfg.on_attach,
    flags = cfg.flags,
  }
end

local function alive(client)
  return client ~= nil and not call(client, 'is_stopped')
end

--- Starts (or reuses) the Gloss client of the buffer's root and attaches the buffer.
--- Returns the client id, or nil when the buffer is not a file under a root.
function M.attach(bufnr)
  if bufnr == nil or bufnr == 0 then
    bufnr = api.nvim_get_current_buf()
  end
  if not api.nvim_buf_is_valid(bufnr) or vim.bo[bufnr].buftype ~= '' then
    return nil
  end
  local name = api.nvim_buf_get_name(bufnr)
  if name == '' or name:match('^%a[%w+.-]*://') then
    return nil -- unnamed, or not a file (fugitive://, oil://, ...)
  end
  local root = M.find_root(vim.fn.fnamemodify(name, ':p'), bufnr)
  if not root then
    return nil
  end
  root = vim.fn.fnamemodify(root, ':p'):gsub('(.)/$', '%1')
  local config = client_config(root)

  if HAS_START then
    local id
    api.nvim_buf_call(bufnr, function() -- 0.8's vim.lsp.start attaches the current buffer
      id = vim.lsp.start(config, {
        bufnr = bufnr,
        reuse_client = function(client, conf)
          return client.name == conf.name and client.config.root_dir == conf.root_dir
            and alive(client)
        end,
      })
    end)
    return id
  end

  local id = clients_by_root[root]
  if not alive(id and vim.lsp.get_client_by_id(id)) then
    id = vim.lsp.start_client(config)
    if not id then
      return nil
    end
    clients_by_root[root] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
  return id
end

local function get_clients(bufnr)
  local all
  if vim.lsp.get_clients then
    all = vim.lsp.get_clients({ name = NAME, bufnr = bufnr })
  elseif bufnr then
    all = vim.tbl_values(vim.lsp.buf_get_clients(bufnr))
  else
    all = vim.lsp.get_active_clients()
  end
  return vim.tbl_filter(function(c)
    return c.name == NAME
  end, all)
end

--- The Gloss clients attached to a buffer (0: the current one), or every Gloss client.
function M.clients(bufnr)
  if bufnr == 0 then
    bufnr = api.nvim_get_current_buf()
  end
  return get_clients(bufnr)
end

local function buffer_client(bufnr)
  local clients = get_clients(bufnr)
  if #clients == 0 then
    notify('no Gloss client for this buffer (is it under a gloss.toml, pyproject.toml or .git?)',
      vim.log.levels.WARN)
    return nil
  end
  return clients[1]
end

local function summary(folder)
  if folder.error then
    return string.format('%s: %s', folder.root, folder.error)
  end
  local q = folder.queue or {}
  local line = string.format(
    '%s: %s/%s spans glossed, %s pending, %s failed, %s stale; queue %s, in flight %s; %s LLM calls',
    folder.root, tostring(folder.enriched), tostring(folder.spans), tostring(folder.pending),
    tostring(folder.failed), tostring(folder.stale), tostring(q.queued or 0),
    tostring(q.in_flight or 0), tostring(folder.llm_calls))
  local down = {}
  for name, b in pairs(folder.backends or {}) do
    if b.healthy == false then
      table.insert(down, string.format('%s %s (%s)', name, tostring(b.state),
        tostring(b.last_error or b.url)))
    end
  end
  if #down > 0 then
    table.sort(down)
    line = line .. '; backend ' .. table.concat(down, ', ')
  end
  return line
end

--- gloss/status of the buffer's Gloss client; `callback(err, result)` gets the raw
--- answer ({folders = {...}}). Without a callback the summary is shown with vim.notify.
function M.status(bufnr, callback)
  local client = buffer_client(bufnr or api.nvim_get_current_buf())
  if not client then
    return
  end
  call(client, 'request', 'gloss/status', vim.empty_dict(), function(err, result)
    if callback then
      return callback(err, result)
    end
    if err then
      return notify('gloss/status failed: ' .. tostring(err.message or err), vim.log.levels.ERROR)
    end
    local lines = {}
    for _, folder in ipairs((result or {}).folders or {}) do
      table.insert(lines, summary(folder))
    end
    notify(#lines > 0 and table.concat(lines, '\n') or 'no workspace folders')
  end, bufnr)
end

local function cursor_args(with_line)
  local bufnr = api.nvim_get_current_buf()
  local args = { uri = vim.uri_from_bufnr(bufnr) }
  if with_line then
    args.line = api.nvim_win_get_cursor(0)[1] - 1 -- LSP lines are 0-based
  end
  return bufnr, args
end

local function offers(client, command)
  local provider = (client.server_capabilities or {}).executeCommandProvider
  for _, name in ipairs(type(provider) == 'table' and provider.commands or {}) do
    if name == command then
      return true
    end
  end
  return false
end

--- Runs one of the server's commands with `args` ({uri, line?}); shows its message.
function M.execute(command, bufnr, args, callback)
  local client = buffer_client(bufnr)
  if not client then
    return
  end
  if not offers(client, command) then
    return notify('this gloss server does not offer ' .. command .. ' (update gloss)',
      vim.log.levels.WARN)
  end
  local params = { command = command, arguments = { args } }
  call(client, 'request', 'workspace/executeCommand', params, function(err, result)
    if callback then
      return callback(err, result)
    end
    if err then
      return notify(command .. ' failed: ' .. tostring(err.message or err), vim.log.levels.ERROR)
    end
    local message = type(result) == 'table' and result.message or vim.inspect(result)
    local queued = type(result) == 'table' and tonumber(result.queued) or 0
    notify(message, queued > 0 and vim.log.levels.INFO or vim.log.levels.WARN)
  end, bufnr)
end

function M.regloss()
  local bufnr, args = cursor_args(true)
  M.execute('gloss.server.regloss', bufnr, args)
end

function M.regloss_file()
  local bufnr, args = cursor_args(false)
  M.execute('gloss.server.reglossFile', bufnr, args)
end

function M.escalate()
  local bufnr, args = cursor_args(true)
  M.execute('gloss.server.escalate', bufnr, args)
end

--- Only the Gloss hover, in a float (on Neovim < 0.11, K shows one client's hover).
function M.hover()
  local bufnr = api.nvim_get_current_buf()
  local client = buffer_client(bufnr)
  if not client then
    return
  end
  local row, col = unpack(api.nvim_win_get_cursor(0))
  local text = api.nvim_buf_get_lines(bufnr, row - 1, row, false)[1] or ''
  local character = 0 -- UTF-16 code units before the cursor
  for i = 1, math.min(col, #text) do
    local b = text:byte(i)
    if b < 0x80 or b >= 0xC0 then
      character = character + (b >= 0xF0 and 2 or 1)
    end
  end
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = { line = row - 1, character = character },
  }
  call(client, 'request', 'textDocument/hover', params, function(err, result)
    if err then
      return notify('hover failed: ' .. tostring(err.message or err), vim.log.levels.ERROR)
    end
    local contents = type(result) == 'table' and result.contents or nil
    local value = type(contents) == 'table' and contents.value or contents
    if type(value) ~= 'string' or value == '' then
      return notify('no gloss here (hover a def or class line)')
    end
    vim.lsp.util.open_floating_preview(vim.split(value, '\n', { plain = true }), 'markdown',
      { focus_id = 'gloss-hover' })
  end, bufnr)
end

-- gloss/search ---------------------------------------------------------------

local INVALID_PARAMS = -32602
local METHOD_NOT_FOUND = -32601
local SEARCH_TIMEOUT_MS = 5000

-- The byte offset (0-based) in `line` of an LSP position's `character`, counted in
-- the client's position encoding (UTF-16 unless the server chose otherwise).
local function byte_offset(line, character, encoding)
  if encoding == 'utf-8' then
    return math.min(character, #line)
  end
  local units, i = 0, 1
  while i <= #line and units < character do
    local b = line:byte(i)
    local len = (b >= 0xF0 and 4) or (b >= 0xE0 and 3) or (b >= 0xC0 and 2) or 1
    units = units + ((len == 4 and encoding ~= 'utf-32') and 2 or 1)
    i = i + len
  end
  return i - 1
end

-- Reads the lines an answer's locations need: from the loaded buffer when there is
-- one (it may differ from the disk), else from the top of the file down to the
-- deepest line asked for (a hit near the top of a huge file reads little).
local function line_reader()
  local loaded = {}
  for _, b in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_is_loaded(b) then
      loaded[api.nvim_buf_get_name(b)] = b
    end
  end
  local files = {}
  return function(fname, row) -- row 0-based
    local b = loaded[fname]
    if b then
      return api.nvim_buf_get_lines(b, row, row + 1, false)[1] or ''
    end
    local read = files[fname]
    if not read or (#read.lines <= row and not read.whole) then
      local want = math.max(row + 1, read and 2 * #read.lines or 0)
      local ok, lines = pcall(vim.fn.readfile, fname, '', want)
      lines = ok and lines or {}
      read = { lines = lines, whole = #lines < want }
      files[fname] = read
    end
    return read.lines[row + 1] or ''
  end
end

local function kind_name(kind)
  if type(kind) == 'number' then
    return (vim.lsp.protocol.SymbolKind[kind] or tostring(kind)):lower()
  end
  return (tostring(kind or 'symbol'):gsub('_', ' ')) -- async_method -> async method
end

--- The quickfix text of a search item: "function pkg.mod.load_config — Reads the file."
function M.search_text(item)
  local summary = item.summary
  if type(summary) ~= 'string' or summary == '' then
    summary = 'no gloss yet'
  end
  return string.format('%s %s — %s', kind_name(item.kind), item.qualname or item.name, summary)
end

-- The server's items, each with quickfix fields added (filename, lnum, col 1-based
-- in bytes, text); order unchanged.
local function with_positions(items, encoding)
  local read = line_reader()
  local out = {}
  for _, item in ipairs(type(items) == 'table' and items or {}) do
    local loc = type(item) == 'table' and item.location
    if type(loc) == 'table' and loc.uri and loc.range then
      local start = loc.range.start
      local fname = vim.uri_to_fname(loc.uri)
      local col = 0
      if start.character > 0 then
        col = byte_offset(read(fname, start.line), start.character, encoding)
      end
      local entry = {}
      for k, v in pairs(item) do
        entry[k] = v
      end
      entry.filename = fname
      entry.lnum = start.line + 1
      entry.col = col + 1
      entry.text = M.search_text(item)
      table.insert(out, entry)
    end
  end
  return out
end

local function search_clients(bufnr)
  if bufnr == nil or bufnr == 0 then
    bufnr = api.nvim_get_current_buf()
  end
  local clients = get_clients(bufnr)
  if #clients == 0 then
    -- From a buffer with no Gloss client (the quickfix window, a picker's prompt):
    -- every running Gloss client.
    clients = get_clients(nil)
  end
  return vim.tbl_filter(function(c)
    return not call(c, 'is_stopped')
  end, clients), bufnr
end

local function search_error(client, err)
  local message = tostring(err.message or err)
  if err.code == METHOD_NOT_FOUND then
    message = 'this gloss server does not answer gloss/search (update gloss): ' .. message
  end
  return { code = err.code, message = message, client_id = client.id, root = client.config.root_dir }
end

-- Sends gloss/search to the clients and calls `finish(err, items)` once, with every
-- client's answer; returns a function cancelling the requests still out.
local function start_search(query, opts, finish)
  local clients, bufnr = search_clients(opts.bufnr)
  if #clients == 0 then
    finish({ message = 'no Gloss client is running (open a file under a gloss.toml, '
      .. 'pyproject.toml or .git first)' }, {})
    return function() end
  end
  local params = { query = query }
  if opts.limit then
    params.limit = opts.limit
  end
  local answers, pending, ids = {}, #clients, {}
  local function answered()
    pending = pending - 1
    if pending > 0 then
      return
    end
    local items, first_err = {}, nil
    for i = 1, #clients do
      local a = answers[i]
      first_err = first_err or a.err
      for rank, item in ipairs(a.items or {}) do
        table.insert(items, { item = item, score = tonumber(item.score) or 0, client = i,
          rank = rank })
      end
    end
    -- Several roots' servers, each ranking its own: merged by score, each one's
    -- order kept among equals. One server's answer is left exactly as it is.
    if #clients > 1 then
      table.sort(items, function(x, y)
        if x.score ~= y.score then return x.score > y.score end
        if x.client ~= y.client then return x.client < y.client end
        return x.rank < y.rank
      end)
    end
    finish(first_err, vim.tbl_map(function(x) return x.item end, items))
  end
  for i, client in ipairs(clients) do
    local ok, id = call(client, 'request', 'gloss/search', params, function(err, result)
      ids[i] = nil
      if err then
        answers[i] = { err = search_error(client, err) }
      else
        answers[i] = { items = with_positions(result, client.offset_encoding) }
      end
      answered()
    end, bufnr)
    if ok and id then
      if answers[i] == nil then
        ids[i] = id
      end
    else
      answers[i] = { err = { message = 'the Gloss server of ' .. tostring(client.config.root_dir)
        .. ' is not running', client_id = client.id, root = client.config.root_dir } }
      answered()
    end
  end
  return function()
    for i, id in pairs(ids) do
      pcall(call, clients[i], 'cancel_request', id)
    end
  end
end

--- gloss/search: functions, methods and classes found by name and by what their
--- gloss says, ranked by the server, best first. Nothing here filters or re-sorts
--- them: show them as they come.
---
---   opts.bufnr     whose Gloss client answers (default: the current buffer; a buffer
---                  with none asks every running Gloss client, merged by score)
---   opts.limit     at most this many items (default: the server's, 50)
---   opts.callback  function(err, items): answer asynchronously; search() then
---                  returns a function that cancels the request (the callback is
---                  then never called). Callable from a libuv callback too (a
---                  picker's feed), where only this form is allowed.
---   opts.timeout_ms  without a callback, how long to wait (default 5000)
---
--- Without a callback it waits (vim.wait) and returns `items, err`. Each item is the server's
--- ({name, qualname, kind, location, summary, score, matched}) plus quickfix fields:
--- filename, lnum, col (1-based, bytes) and text ("kind qualname — summary", or
--- "— no gloss yet"). `err` ({code, message, client_id, root}, code -32602 when the
--- server refused the query, e.g. too long) is nil on success; an empty query
--- answers no items.
function M.search(query, opts)
  opts = opts or {}
  local callback = opts.callback
  local done, cancelled, result_items, result_err = false, false, nil, nil
  local cancel_requests = nil
  local function finish(err, items)
    if done or cancelled then
      return
    end
    done = true
    result_items, result_err = items, err
    if callback then
      callback(err, items)
    end
  end
  local function start()
    if not cancelled then
      cancel_requests = start_search(query or '', opts, finish)
    end
  end
  -- In a libuv callback (a picker feeding its list) Neovim's API is off limits
  -- (E5560): the search starts on the main loop.
  if vim.in_fast_event() then
    if not callback then
      error('gloss.search: in a libuv callback, pass opts.callback (there is no waiting there)')
    end
    vim.schedule(start)
  else
    start()
  end
  local function cancel()
    cancelled = true
    if cancel_requests then
      cancel_requests()
    end
  end
  if callback then
    return cancel
  end
  local timeout = opts.timeout_ms or SEARCH_TIMEOUT_MS
  if not vim.wait(timeout, function() return done end, 10) then
    cancel()
    return nil, { message = string.format('gloss/search had no answer within %d ms', timeout) }
  end
  return result_items, result_err
end

--- :GlossSearch {query}: the items of gloss/search in the quickfix list, best first.
function M.search_to_quickfix(query)
  query = vim.trim(query or '')
  if query == '' then
    return notify('GlossSearch needs a query: what the code does, or its name', vim.log.levels.WARN)
  end
  M.search(query, {
    callback = function(err, items)
      if err then
        local what = err.code == INVALID_PARAMS and 'search refused: ' or 'search failed: '
        notify(what .. err.message, vim.log.levels.ERROR)
      end
      if #items == 0 then
        if not err then
          notify(string.format('nothing found for "%s"', query), vim.log.levels.WARN)
        end
        return
      end
      local entries = {}
      for _, item in ipairs(items) do
        table.insert(entries, { filename = item.filename, lnum = item.lnum, col = item.col,
          text = item.text })
      end
      vim.fn.setqflist({}, ' ', { title = 'Gloss search: ' .. query, items = entries })
      vim.cmd('botright copen')
    end,
  })
end

--- "gloss: 3 queued, 1 in flight" for the current buffer's root ('' when idle or unknown).
function M.statusline()
  local client = get_clients(api.nvim_get_current_buf())[1]
  local p = client and progress_by_root[client.config.root_dir]
  if not p then
    return ''
  end
  local parts = {}
  if not p.scanned then
    table.insert(parts, 'scanning')
  end
  if (p.queued or 0) > 0 then
    table.insert(parts, p.queued .. ' queued')
  end
  if (p.in_flight or 0) > 0 then
    table.insert(parts, p.in_flight .. ' in flight')
  end
  for name, b in pairs(p.backends or {}) do
    if b.healthy == false then
      table.insert(parts, name .. ' ' .. tostring(b.state))
    end
  end
  return #parts > 0 and ('gloss: ' .. table.concat(parts, ', ')) or ''
end

--- The latest gloss/progress notification of a root (a table), or nil.
function M.progress(root)
  return progress_by_root[root]
end

local COMMANDS = {
  GlossStatus = { fn = function() M.status() end, desc = 'Gloss: status of this workspace' },
  GlossHover = { fn = function() M.hover() end, desc = 'Gloss: the gloss of the span here' },
  GlossRegloss = { fn = function() M.regloss() end, desc = 'Gloss: gloss this span again' },
  GlossReglossFile = {
    fn = function() M.regloss_file() end,
    desc = 'Gloss: gloss every span of this file again',
  },
  GlossEscalate = {
    fn = function() M.escalate() end,
    desc = 'Gloss: gloss this span with the next tier',
  },
  GlossSearch = {
    fn = function(args) M.search_to_quickfix(args.args) end,
    desc = 'Gloss: functions by what they do, in the quickfix list',
    nargs = '*',
  },
}

--- Configures Gloss and starts it for matching buffers (including those already open).
--- Calling it again replaces the configuration; running clients keep theirs until restarted.
function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  -- Lists are replaced whole, not merged index by index.
  for _, key in ipairs({ 'cmd', 'filetypes', 'root_markers' }) do
    if opts and opts[key] then
      M.config[key] = opts[key]
    end
  end
  if opts and opts.settings ~= nil then
    M.config.settings = opts.settings
  end

  local group = api.nvim_create_augroup('gloss', { clear = true })
  -- Suffixes Gloss indexes that Neovim gives no filetype: without one the buffer
  -- gets no client (no hover, and no Gloss answers to workspace/symbol from it).
  api.nvim_create_autocmd({ 'BufNewFile', 'BufRead' }, {
    group = group,
    pattern = vim.tbl_map(function(suffix) return '*.' .. suffix end,
      vim.tbl_keys(UNDETECTED)),
    callback = function(args)
      if vim.bo[args.buf].filetype == '' then
        local suffix = vim.fn.fnamemodify(api.nvim_buf_get_name(args.buf), ':e')
        vim.bo[args.buf].filetype = UNDETECTED[suffix] or ''
      end
    end,
    desc = 'Gloss: a filetype for the sources Neovim does not recognise',
  })
  api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = M.config.filetypes,
    callback = function(args)
      M.attach(args.buf)
    end,
    desc = 'Gloss: start or reuse the server of this root',
  })
  for name, c in pairs(COMMANDS) do
    api.nvim_create_user_command(name, c.fn, { desc = c.desc, nargs = c.nargs, force = true })
  end
  for _, bufnr in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(M.config.filetypes, vim.bo[bufnr].filetype)
    then
      M.attach(bufnr)
    end
  end
end

return M
