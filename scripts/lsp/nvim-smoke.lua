-- Headless Neovim smoke test of `tailpolicy lsp` (run by scripts/lsp-test):
-- open a policy, wait for the server's diagnostics, format the buffer, compare the
-- result with `tailpolicy fmt`. Works with Neovim 0.7 (Debian 12) and later.
local bin = os.getenv("TAILPOLICY_BIN")
local file = os.getenv("POLICY")
local expected_file = os.getenv("EXPECTED")

local function fail(msg)
  io.stderr:write("nvim smoke: " .. msg .. "\n")
  vim.cmd("cquit 1")
end

vim.cmd("edit " .. file)
local buf = vim.api.nvim_get_current_buf()
local client_id = vim.lsp.start_client({
  name = "tailpolicy",
  cmd = { bin, "lsp" },
  root_dir = vim.fn.fnamemodify(file, ":h"),
})
if not client_id then fail("the server did not start") end
vim.lsp.buf_attach_client(buf, client_id)

local ok = vim.wait(10000, function()
  return #vim.diagnostic.get(buf) > 0
end, 50)
if not ok then fail("no diagnostics within 10 s") end
local codes = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  table.insert(codes, tostring(d.code))
end
table.sort(codes)
if table.concat(codes, ",") ~= "TP1001" then
  fail("diagnostics: expected TP1001, got " .. table.concat(codes, ","))
end

if vim.lsp.buf.format then
  vim.lsp.buf.format({ timeout_ms = 5000 })
else
  vim.lsp.buf.formatting_sync(nil, 5000)
end
local got = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n") .. "\n"
local expected = table.concat(vim.fn.readfile(expected_file), "\n") .. "\n"
if got ~= expected then
  fail("formatted buffer differs from `tailpolicy fmt`:\n" .. got)
end
print("nvim smoke: diagnostics " .. table.concat(codes, ",") .. ", formatting identical to tailpolicy fmt")
vim.cmd("qall!")
