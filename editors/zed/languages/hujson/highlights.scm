(pair
  key: (string) @property)

(string) @string

(number) @number

[
  (null)
  (true)
  (false)
] @constant

(escape_sequence) @string.escape

(comment) @comment

["{" "}" "[" "]"] @punctuation.bracket

[":" ","] @punctuation.delimiter
