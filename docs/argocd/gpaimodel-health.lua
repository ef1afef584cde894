-- Argo CD health check for gpai.dev/GPAIModel (resource.customizations.health.gpai.dev_GPAIModel).
-- Reads only what the operator writes in status (docs/operator.md):
--   Progressing  no verdict yet, or the operator has not yet evaluated the current generation
--   Healthy      condition Compliant is True
--   Degraded     condition Compliant is False (unmet obligations, or a spec it cannot evaluate)
-- Written for Argo CD's Lua 5.1 (gopher-lua): no goto, no integer division, no string.format("%q").
local hs = {}
local status = obj.status
if status == nil or status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the gpai-operator's first verdict"
  return hs
end

local generation = obj.metadata.generation
local observed = status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the gpai-operator to evaluate generation " .. tostring(generation)
  if observed ~= nil then
    hs.message = hs.message .. " (last evaluated: " .. tostring(observed) .. ")"
  end
  return hs
end

local compliant = nil
for _, condition in ipairs(status.conditions) do
  if condition.type == "Compliant" then
    compliant = condition
  end
end

if compliant == nil or compliant.status == "Unknown" then
  hs.status = "Progressing"
  hs.message = "Waiting for the gpai-operator's verdict"
elseif compliant.status == "True" then
  hs.status = "Healthy"
  hs.message = compliant.message or "Compliant"
else
  hs.status = "Degraded"
  hs.message = compliant.message or "Not compliant"
end
return hs
