-- wrk script: non-streaming chat completions against AgentiCorp.
--   AGENTICORP_KEY=ak-... wrk -t2 -c64 -d30s --latency -s deploy/loadtest/wrk-completions.lua http://127.0.0.1:3000
-- AGENTICORP_MODEL picks the model (default sim-fast). temperature 0.7 keeps the cache out of it.
-- AGENTICORP_ENDPOINT=responses, completions or messages sends the same prompt to the APIs translated
-- to chat; embeddings embeds it (cache bypassed: embeddings are always cacheable).
local key = os.getenv("AGENTICORP_KEY") or ""
local model = os.getenv("AGENTICORP_MODEL") or "sim-fast"

wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key
wrk.body = '{"model":"' .. model .. '","temperature":0.7,"messages":[{"role":"user","content":"Summarise the benefits of horizontal scaling in one sentence."}]}'

local endpoint = os.getenv("AGENTICORP_ENDPOINT") or "chat"
if endpoint == "responses" then
  wrk.path = "/v1/responses"
  wrk.body = '{"model":"' .. model .. '","temperature":0.7,"input":"Summarise the benefits of horizontal scaling in one sentence."}'
elseif endpoint == "completions" then
  -- max_tokens as the simulator's default answer length, so the answer matches chat's.
  wrk.path = "/v1/completions"
  wrk.body = '{"model":"' .. model .. '","temperature":0.7,"max_tokens":24,"prompt":"Summarise the benefits of horizontal scaling in one sentence."}'
elseif endpoint == "messages" then
  wrk.path = "/v1/messages"
  wrk.headers["anthropic-version"] = "2023-06-01"
  wrk.body = '{"model":"' .. model .. '","temperature":0.7,"max_tokens":1024,"messages":[{"role":"user","content":"Summarise the benefits of horizontal scaling in one sentence."}]}'
elseif endpoint == "embeddings" then
  wrk.path = "/v1/embeddings"
  wrk.headers["x-agenticorp-cache"] = "bypass"
  wrk.body = '{"model":"' .. model .. '","input":"Summarise the benefits of horizontal scaling in one sentence.","dimensions":256}'
end
