-- POSTs the body file given after `--`, with every @SEQ@ replaced by a value unique to
-- the request, so each request carries new alerts (new incidents, not dedupe hits).
local threads = {}
local counter = 0
local template
local prefix

function setup(thread)
   thread:set("tid", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   local file = assert(io.open(args[1], "r"))
   template = file:read("*a")
   file:close()
   prefix = "w" .. tostring(tid) .. "-" .. tostring(os.time()) .. "-"
end

function request()
   counter = counter + 1
   local body = template:gsub("@SEQ@", prefix .. counter)
   return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
