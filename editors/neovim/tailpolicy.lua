-- tailpolicy lsp for Neovim 0.11+: copy into your config (e.g. ~/.config/nvim/lsp/
-- or init.lua). Policy files are HuJSON; `*.hujson` gets its own filetype.
vim.filetype.add({ extension = { hujson = "hujson" } })

vim.lsp.config("tailpolicy", {
  cmd = { "tailpolicy", "lsp" },
  filetypes = { "hujson" },
  root_markers = { "tailpolicy.toml", ".git" },
})
vim.lsp.enable("tailpolicy")

-- Format on save (byte-identical to `tailpolicy fmt`).
vim.api.nvim_create_autocmd("BufWritePre", {
  pattern = "*.hujson",
  callback = function() vim.lsp.buf.format({ name = "tailpolicy" }) end,
})
