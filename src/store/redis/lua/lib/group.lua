-- @include clock
-- A script on the keys of ONE resource group (`<prefix>:{<group>}:`, a hold's
-- name up to its last ':'), so a cart of one event, and its sale, is one
-- script on one Cluster slot. KEYS[1] is the group's `fence` hash; the others
-- are derived from it:
--
--   h:<name>  hash session id -> hold (lib/hold.lua)
--   c:<name>  hash session id -> token|quantity|confirmedAt          (the claims)
--   fence     hash name -> last token granted (never expires, never goes back)
--   pools     hash name -> capacity
--
-- ARGV[1] is the time (clock). The rules are core/holds.ts's; a refusal
-- answers the state seen and Node's pure planner throws the error
-- (test/holds-rules.test.ts holds the two together).
local G = string.sub(KEYS[1], 1, -6)
local now = clock(ARGV[1])
