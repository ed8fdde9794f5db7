-- tailpolicy lsp with nvim-lspconfig (Neovim 0.8+), which has no built-in entry for
-- it: register one, then set it up.
vim.filetype.add({ extension = { hujson = "hujson" } })

local configs = require("lspconfig.configs")
local util = require("lspconfig.util")
if not configs.tailpolicy then
  configs.tailpolicy = {
    default_config = {
      cmd = { "tailpolicy", "lsp" },
      filetypes = { "hujson" },
      root_dir = util.root_pattern("tailpolicy.toml", ".git"),
      single_file_support = true,
    },
  }
end
require("lspconfig").tailpolicy.setup({})
