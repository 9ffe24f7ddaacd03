-- @include clock
-- A script on the keys of ONE session: KEYS[1] is its hash `<prefix>:{<id>}:s`;
-- its other keys are P .. suffix (same hash tag, same Cluster slot). ARGV[1]
-- is the time (clock).
local P = string.sub(KEYS[1], 1, -2)
local now = clock(ARGV[1])
