local function append(t, list) for _, v in ipairs(list) do t[#t + 1] = v end return t end
