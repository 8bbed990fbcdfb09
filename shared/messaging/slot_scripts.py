"""The Lua scripts behind `slots`: each reads and writes a namespace's slots atomically.

Every script takes the slot hash as `KEYS[1]` and, where a pod's end matters, the finished-pods
sorted set as `KEYS[2]`. A slot's value is `pod` once its pod exists, else the name of the
launcher creating it; a launcher is alive while its `launcher-alive:<holder>` key exists, whose
prefix the scripts that judge holders get as an argument (one Redis, not a cluster).
"""

from __future__ import annotations

#: Claim codes the acquire script answers with, one per pod it considered.
TAKEN = 1
FINISHED = 2

#: ARGV: holder, limit, pods... Answers a code per pod, in order, stopping at the first pod
#: that finds the namespace full. A finished pod is refused without taking a slot; any other
#: pod's slot is marked as being created by this holder, also when it already existed (a
#: redelivered job): that mark is the fence that keeps the reconciler from deleting the pod
#: while this create may still run.
ACQUIRE = """
local limit = tonumber(ARGV[2])
local claims = {}
for i = 3, #ARGV do
  if redis.call('ZSCORE', KEYS[2], ARGV[i]) then
    claims[#claims + 1] = 2
  else
    if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 0 and redis.call('HLEN', KEYS[1]) >= limit then
      return claims
    end
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[1])
    claims[#claims + 1] = 1
  end
end
return claims
"""

#: ARGV: holder, created value, pods... A slot this holder still holds is marked created, or
#: freed if the pod's end was recorded meanwhile (its fence is no longer needed). A slot another
#: launcher took since (the job delivered again) is left to that launcher.
MARK_CREATED = """
for i = 3, #ARGV do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[1] then
    if redis.call('ZSCORE', KEYS[2], ARGV[i]) then
      redis.call('HDEL', KEYS[1], ARGV[i])
    else
      redis.call('HSET', KEYS[1], ARGV[i], ARGV[2])
    end
  end
end
return 0
"""

#: ARGV: holder, pods... Frees the slots this holder still holds (its creates failed).
GIVE_BACK = """
for i = 2, #ARGV do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return 0
"""

#: ARGV: now, forget-before, alive-key prefix, created value, pods... Records the pods as
#: finished (forgetting those finished before `forget-before`) and frees their slots, except
#: those a live launcher is creating right now: their slots stay (the fence), and the script
#: answers their names, so the caller leaves those pods in place.
FINISH = """
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[2])
local creating = {}
for i = 5, #ARGV do
  local pod = ARGV[i]
  redis.call('ZADD', KEYS[2], 'NX', ARGV[1], pod)
  local held = redis.call('HGET', KEYS[1], pod)
  if held and held ~= ARGV[4] and redis.call('EXISTS', ARGV[3] .. held) == 1 then
    creating[#creating + 1] = pod
  elseif held then
    redis.call('HDEL', KEYS[1], pod)
  end
end
return creating
"""

#: ARGV: alive-key prefix, created value, pods... Answers the pods a live launcher is creating.
CREATING = """
local creating = {}
for i = 3, #ARGV do
  local held = redis.call('HGET', KEYS[1], ARGV[i])
  if held and held ~= ARGV[2] and redis.call('EXISTS', ARGV[1] .. held) == 1 then
    creating[#creating + 1] = ARGV[i]
  end
end
return creating
"""

#: A census, run by the sweep each round, heals slots from the pods that exist. KEYS[3] is the
#: set of slots whose pod this round listed unfinished. ARGV: created value, alive-key prefix,
#: now, how many live pods, how many other unfinished pods, then those pods, then pods whose
#: row has ended. A live pod (unfinished, its row live) without a slot gets one unless it
#: ended; an ended pod's slot is freed and its end recorded, unless a live launcher is
#: creating it. Answers {adopted, freed}.
CENSUS_PAGE = """
local created, alive, now = ARGV[1], ARGV[2], ARGV[3]
local listed = tonumber(ARGV[4]) + tonumber(ARGV[5])
local adopted, freed = 0, 0
for i = 6, #ARGV do
  local pod, k = ARGV[i], i - 5
  local held = redis.call('HGET', KEYS[1], pod)
  if k <= listed then
    if not held and k <= tonumber(ARGV[4]) and not redis.call('ZSCORE', KEYS[2], pod) then
      redis.call('HSET', KEYS[1], pod, created)
      adopted = adopted + 1
      held = created
    end
    if held then redis.call('SADD', KEYS[3], pod) end
  elseif held then
    redis.call('ZADD', KEYS[2], 'NX', now, pod)
    if held == created or redis.call('EXISTS', alive .. held) == 0 then
      freed = freed + redis.call('HDEL', KEYS[1], pod)
    end
  end
end
return {adopted, freed}
"""

#: The end of a census. KEYS[2]: the slots listed this round; KEYS[3]: the slots marked created
#: that the previous round missed. ARGV: created value. A slot still marked created that this
#: round missed too is freed (a slot being created is never touched); the others missed are
#: remembered for the next round. Answers how many were freed.
CENSUS_END = """
local fields = redis.call('HGETALL', KEYS[1])
local missed = {}
local freed = 0
for i = 1, #fields, 2 do
  local pod = fields[i]
  if fields[i + 1] == ARGV[1] and redis.call('SISMEMBER', KEYS[2], pod) == 0 then
    if redis.call('SISMEMBER', KEYS[3], pod) == 1 then
      freed = freed + redis.call('HDEL', KEYS[1], pod)
    else
      missed[#missed + 1] = pod
    end
  end
end
redis.call('DEL', KEYS[2], KEYS[3])
for _, pod in ipairs(missed) do
  redis.call('SADD', KEYS[3], pod)
end
return freed
"""
