-- wrk script: POST one decision request with a bearer token from $TOKEN.
-- wrk -t2 -c32 -d30s --latency -s bench/decide.lua http://127.0.0.1:8080/api/v1/decide
local f = assert(io.open("examples/deflazacort-gp.json", "r"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. assert(os.getenv("TOKEN"), "set TOKEN")
