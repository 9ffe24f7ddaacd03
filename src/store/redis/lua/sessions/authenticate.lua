-- KEYS[1]: the session's hash. ARGV: now, then authenticate's (lib/authenticate.lua).
-- Answers {outcome, fields..., extra, transactions}.
-- @include authenticate
return authenticate()
