//! MCP (stub).
