-- A small simulator of REAPER's ReaScript API (the `reaper` table) for running the shipped
-- Ainur importer under a plain Lua 5.4 interpreter in tests. It holds a project (tracks with
-- media items, markers/regions, a tempo map, the edit cursor, ExtState, undo blocks, UI
-- refresh state) and implements the functions the importer calls with the signatures and
-- behaviour of REAPER's ReaScript documentation (https://www.reaper.fm/sdk/reascript/reascripthelp.html):
--
--   GetExtState(section, key) -> string ("" when unset); SetExtState(section, key, value, persist)
--   CountTracks(proj) -> int; GetTrack(proj, idx) -> MediaTrack or nil (0-based)
--   InsertTrackAtIndex(idx, wantDefaults); SetOnlyTrackSelected(track)
--   GetSetMediaTrackInfo_String(track, "P_NAME", value, set) -> retval, value
--   SetMediaTrackInfo_Value(track, "B_MUTE", 0|1) -> bool
--   Main_OnCommand(40914, 0)   "Track: Set first selected track as last touched track"
--   GetCursorPosition() -> seconds; SetEditCurPos(seconds, moveview, seekplay)
--   InsertMedia(file, mode) -> int: mode 0 adds the file to the current (last touched) track
--     at the edit cursor, as long as the file's audio (WAV/RF64 and FLAC headers are read),
--     selects the new item and moves the edit cursor to its end (REAPER's default)
--   CountTrackMediaItems(track) -> int; GetTrackMediaItem(track, idx) -> MediaItem or nil
--   SetMediaItemPosition(item, seconds, refresh) -> bool; SetMediaItemLength(item, s, refresh) -> bool
--   AddProjectMarker2(proj, isrgn, pos, rgnend, name, wantidx, color) -> marker number
--   CountProjectMarkers(proj) -> total, markers, regions
--   EnumProjectMarkers3(proj, idx) -> retval (idx+1, 0 past the end), isrgn, pos, rgnend, name, number, color
--   Undo_BeginBlock2(proj); Undo_EndBlock2(proj, description, extraflags); PreventUIRefresh(n)
--   UpdateArrange(); UpdateTimeline(); GetProjectLength(proj) -> seconds
--   CountTempoTimeSigMarkers(proj) -> int
--   GetTempoTimeSigMarker(proj, idx) -> ok, timepos, measurepos, beatpos, bpm, num, den, linear
--   TimeMap_GetTimeSigAtTime(proj, t) -> num, den, bpm; TimeMap2_timeToQN(proj, t) -> quarter notes
--
-- Any other `reaper.X` raises "ReaScript function X is not simulated", so a script cannot
-- depend on something this simulator does not model. Every change to the project is logged
-- with the undo-block depth and UI-refresh hold it happened under.

local sim = { log = {} }
local P -- the project

local function json(v, out)
  local t = type(v)
  if t == "table" then
    if #v > 0 or next(v) == nil and getmetatable(v) == sim.array then
      out[#out + 1] = "["
      for i, x in ipairs(v) do
        if i > 1 then out[#out + 1] = "," end
        json(x, out)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do if type(k) == "string" and k:sub(1, 1) ~= "_" then keys[#keys + 1] = k end end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        json(k, out); out[#out + 1] = ":"; json(v[k], out)
      end
      out[#out + 1] = "}"
    end
  elseif t == "string" then
    out[#out + 1] = '"' .. v:gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", c:byte())
    end) .. '"'
  elseif t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then out[#out + 1] = "null"
    elseif math.type(v) == "integer" then out[#out + 1] = tostring(v)
    else out[#out + 1] = string.format("%.17g", v) end
  elseif t == "boolean" then out[#out + 1] = tostring(v)
  else out[#out + 1] = "null" end
end

sim.array = {}
local function array(t) return setmetatable(t or {}, sim.array) end

function sim.dump()
  local out = {}
  json({ tracks = P.tracks, markers = P.markers, cursor = P.cursor, ext = P.ext,
         undo_blocks = P.undo_blocks, undo_depth = P.undo_depth, prevent = P.prevent,
         max_prevent = P.max_prevent, changes = P.changes, ui_updates = P.ui_updates }, out)
  return table.concat(out)
end

--- setup{tracks={{name=..., mute=...}}, markers={...}, cursor=s, ext={["sec/key"]=v},
---       tempo={bpm=, num=, den=, points={{pos=, bpm=, num=, den=, linear=}}}}
--- (a track may hold midi={{pos=, length=, mute=, loop_qn=, notes={{s=, e=, chan=, pitch=,
--- vel=, muted=}}}}: MIDI items, note positions in 960-PPQ ticks from the item's start)
function sim.setup(cfg)
  cfg = cfg or {}
  P = { tracks = array(), markers = array(), cursor = cfg.cursor or 0.0, ext = cfg.ext or {},
        undo_blocks = array(), undo_depth = 0, prevent = 0, max_prevent = 0,
        changes = array(), ui_updates = 0, last_touched = nil,
        tempo = cfg.tempo or { bpm = 120, num = 4, den = 4, points = {} } }
  for _, t in ipairs(cfg.tracks or {}) do
    local items = array()
    for _, m in ipairs(t.midi or {}) do   -- MIDI items: one MIDI take each, 960 PPQ
      local item = { position = m.pos, length = m.length, mute = m.mute or false,
                     loop = (m.loop_qn or 0) > 0, selected = false }
      -- "_" keys are left out of sim.dump() (the take points back at its item)
      item._take = { midi = true, _item = item, ppq = 960, notes = m.notes or {},
                     source = { qn_length = m.loop_qn or 0 } }
      items[#items + 1] = item
    end
    P.tracks[#P.tracks + 1] = { name = t.name or "", mute = t.mute and 1 or 0, selected = false,
                                items = items }
  end
  for _, m in ipairs(cfg.markers or {}) do
    P.markers[#P.markers + 1] = { isrgn = m.isrgn or false, pos = m.pos, rgnend = m.rgnend or 0,
                                  name = m.name or "", number = m.number or (#P.markers + 1) }
  end
end

local function change(what)
  P.changes[#P.changes + 1] = { what = what, undo_depth = P.undo_depth, prevent = P.prevent }
end

local function project(proj)
  if proj ~= 0 and proj ~= nil then error("only the current project (0) is simulated", 3) end
end

local function track_index(tr)
  for i, t in ipairs(P.tracks) do if t == tr then return i end end
  error("not a MediaTrack of this project", 3)
end

-- audio file length in seconds from its header (WAV/RF64 'fmt '/'data'/'ds64', FLAC STREAMINFO)
local function media_length(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local head = f:read(4)
  if head == "fLaC" then
    local _ = f:read(4) -- metadata block header (STREAMINFO first)
    local si = f:read(34)
    f:close()
    if not si or #si < 18 then return nil end
    local b = { si:byte(11, 18) }
    local rate = (b[1] << 12) | (b[2] << 4) | (b[3] >> 4)
    local total = ((b[4] & 0x0F) << 32) | (b[5] << 24) | (b[6] << 16) | (b[7] << 8) | b[8]
    return total / rate
  end
  if head ~= "RIFF" and head ~= "RF64" then f:close(); return nil end
  f:read(4)
  if f:read(4) ~= "WAVE" then f:close(); return nil end
  local rate, block, data, ds64 = nil, nil, nil, nil
  while true do
    local id = f:read(4)
    local sz = f:read(4)
    if not id or not sz or #sz < 4 then break end
    local size = string.unpack("<I4", sz)
    if id == "fmt " then
      local fmt = f:read(size)
      rate = string.unpack("<I4", fmt, 5)
      block = string.unpack("<I2", fmt, 13)
    elseif id == "ds64" then
      local body = f:read(size)
      ds64 = string.unpack("<I8", body, 9)
    elseif id == "data" then
      data = (size == 0xFFFFFFFF and ds64) or size
      break
    else
      f:seek("cur", size + size % 2)
    end
  end
  f:close()
  if not (rate and block and data) then return nil end
  return (data // block) / rate
end

local function sorted_tempo()
  local pts = {}
  for _, p in ipairs(P.tempo.points or {}) do pts[#pts + 1] = p end
  table.sort(pts, function(a, b) return a.pos < b.pos end)
  return pts
end

local function tempo_at(t)
  local bpm, num, den = P.tempo.bpm, P.tempo.num, P.tempo.den
  for _, p in ipairs(sorted_tempo()) do
    if p.pos <= t then
      bpm = p.bpm
      if p.num and p.num > 0 then num, den = p.num, p.den end
    end
  end
  return bpm, num, den
end

local function time_to_qn(t)
  local qn, at, bpm = 0.0, 0.0, P.tempo.bpm
  for _, p in ipairs(sorted_tempo()) do
    if p.pos >= t then break end
    qn = qn + (p.pos - at) * bpm / 60
    at, bpm = p.pos, p.bpm
  end
  return qn + (t - at) * bpm / 60
end

local api = {}

function api.GetExtState(section, key) return P.ext[section .. "/" .. key] or "" end
function api.SetExtState(section, key, value, persist)
  assert(type(value) == "string", "SetExtState: value must be a string")
  assert(type(persist) == "boolean", "SetExtState: persist must be a boolean")
  P.ext[section .. "/" .. key] = value
end
function api.CountTracks(proj) project(proj); return #P.tracks end
function api.GetTrack(proj, idx) project(proj); return P.tracks[idx + 1] end
function api.InsertTrackAtIndex(idx, want_defaults)
  assert(math.type(idx) == "integer" and idx >= 0 and idx <= #P.tracks, "InsertTrackAtIndex: bad index")
  table.insert(P.tracks, idx + 1, { name = "", mute = 0, selected = false, items = array() })
  change("insert track " .. idx)
end
function api.SetOnlyTrackSelected(tr)
  track_index(tr)
  for _, t in ipairs(P.tracks) do t.selected = (t == tr) end
end
function api.GetSetMediaTrackInfo_String(tr, parm, value, set)
  track_index(tr)
  if parm ~= "P_NAME" then error("GetSetMediaTrackInfo_String: " .. parm .. " not simulated") end
  if set then tr.name = value; change("name track " .. value) end
  return true, tr.name
end
function api.SetMediaTrackInfo_Value(tr, parm, value)
  track_index(tr)
  if parm ~= "B_MUTE" then error("SetMediaTrackInfo_Value: " .. parm .. " not simulated") end
  tr.mute = value ~= 0 and 1 or 0
  change("mute track")
  return true
end
function api.Main_OnCommand(command, flag)
  if command ~= 40914 then error("Main_OnCommand: action " .. tostring(command) .. " not simulated") end
  P.last_touched = nil
  for _, t in ipairs(P.tracks) do if t.selected then P.last_touched = t; break end end
end
function api.GetCursorPosition() return P.cursor end
function api.SetEditCurPos(time, moveview, seekplay)
  assert(type(time) == "number" and type(moveview) == "boolean" and type(seekplay) == "boolean",
         "SetEditCurPos(number, boolean, boolean)")
  P.cursor = time
end
function api.InsertMedia(file, mode)
  if mode ~= 0 then error("InsertMedia: only mode 0 (add to current track) is simulated") end
  local tr = P.last_touched or P.tracks[1]
  local length = media_length(file)
  if not tr or not length then return 0 end
  for _, t in ipairs(P.tracks) do for _, it in ipairs(t.items) do it.selected = false end end
  local item = { position = P.cursor, length = length, source = file, selected = true }
  tr.items[#tr.items + 1] = item
  table.sort(tr.items, function(a, b) return a.position < b.position end)
  P.cursor = P.cursor + length
  change("insert media " .. file)
  return 1
end
function api.CountTrackMediaItems(tr) track_index(tr); return #tr.items end
function api.GetTrackMediaItem(tr, idx) track_index(tr); return tr.items[idx + 1] end
local function check_item(item)
  for _, t in ipairs(P.tracks) do for _, it in ipairs(t.items) do if it == item then return end end end
  error("not a MediaItem of this project", 3)
end
function api.SetMediaItemPosition(item, position, refresh)
  check_item(item); item.position = position; change("move item"); return true
end
function api.SetMediaItemLength(item, length, refresh)
  check_item(item); item.length = length; change("item length"); return true
end
function api.GetActiveTake(item)
  check_item(item)
  return item._take   -- nil for the simulated audio items (only MIDI takes are modelled)
end
function api.TakeIsMIDI(take) return take ~= nil and take.midi == true end
function api.GetMediaItemInfo_Value(item, parm)
  check_item(item)
  if parm == "D_POSITION" then return item.position end
  if parm == "D_LENGTH" then return item.length end
  if parm == "B_MUTE" then return item.mute and 1 or 0 end
  if parm == "B_LOOPSRC" then return item.loop and 1 or 0 end
  error("GetMediaItemInfo_Value: " .. tostring(parm) .. " is not simulated", 2)
end
function api.GetMediaItemTake_Source(take) return take.source end
-- MIDI sources report their length in quarter notes (lengthIsQN true)
function api.GetMediaSourceLength(source) return source.qn_length, true end
function api.MIDI_CountEvts(take)
  if not (take and take.midi) then return 0, 0, 0, 0 end
  return 1, #take.notes, 0, 0
end
function api.MIDI_GetNote(take, idx)
  local n = take.notes[idx + 1]
  if not n then return false, false, false, 0, 0, 0, 0, 0 end
  return true, false, n.muted or false, n.s, n.e, n.chan or 0, n.pitch, n.vel
end
-- PPQ positions count from the take's start at the item's position (no start offset here)
function api.MIDI_GetProjQNFromPPQPos(take, ppq)
  return time_to_qn(take._item.position) + ppq / take.ppq
end
function api.AddProjectMarker2(proj, isrgn, pos, rgnend, name, wantidx, color)
  project(proj)
  local number = wantidx
  if number < 0 then
    number = 1
    for _, m in ipairs(P.markers) do if m.isrgn == isrgn and m.number >= number then number = m.number + 1 end end
  end
  P.markers[#P.markers + 1] = { isrgn = isrgn, pos = pos, rgnend = rgnend, name = name, number = number }
  table.sort(P.markers, function(a, b) return a.pos < b.pos end)
  change("add marker " .. name)
  return number
end
function api.CountProjectMarkers(proj)
  project(proj)
  local m, r = 0, 0
  for _, x in ipairs(P.markers) do if x.isrgn then r = r + 1 else m = m + 1 end end
  return m + r, m, r
end
function api.EnumProjectMarkers3(proj, idx)
  project(proj)
  local x = P.markers[idx + 1]
  if not x then return 0, false, 0.0, 0.0, "", 0, 0 end
  return idx + 1, x.isrgn, x.pos, x.isrgn and x.rgnend or 0.0, x.name, x.number, 0
end
function api.Undo_BeginBlock2(proj) project(proj); P.undo_depth = P.undo_depth + 1 end
function api.Undo_EndBlock2(proj, desc, flags)
  project(proj)
  if P.undo_depth < 1 then error("Undo_EndBlock2 without Undo_BeginBlock2") end
  P.undo_depth = P.undo_depth - 1
  if P.undo_depth == 0 then P.undo_blocks[#P.undo_blocks + 1] = { description = desc, flags = flags } end
end
function api.PreventUIRefresh(n)
  P.prevent = P.prevent + n
  if P.prevent > P.max_prevent then P.max_prevent = P.prevent end
end
function api.UpdateArrange() P.ui_updates = P.ui_updates + 1 end
function api.UpdateTimeline() P.ui_updates = P.ui_updates + 1 end
function api.GetProjectLength(proj)
  project(proj)
  local len = 0.0
  for _, t in ipairs(P.tracks) do
    for _, it in ipairs(t.items) do len = math.max(len, it.position + it.length) end
  end
  for _, m in ipairs(P.markers) do len = math.max(len, m.isrgn and m.rgnend or m.pos) end
  return len
end
function api.CountTempoTimeSigMarkers(proj) project(proj); return #(P.tempo.points or {}) end
function api.GetTempoTimeSigMarker(proj, idx)
  project(proj)
  local p = sorted_tempo()[idx + 1]
  if not p then return false, -1, -1, -1, -1, -1, -1, false end
  local qn = time_to_qn(p.pos)
  return true, p.pos, 0, qn, p.bpm, p.num or -1, p.den or -1, p.linear or false
end
function api.TimeMap_GetTimeSigAtTime(proj, t)
  project(proj)
  local bpm, num, den = tempo_at(t)
  return num, den, bpm
end
function api.TimeMap2_timeToQN(proj, t) project(proj); return time_to_qn(t) end

reaper = setmetatable({}, {
  __index = function(_, name)
    local f = api[name]
    if not f then error("ReaScript function " .. tostring(name) .. " is not simulated", 2) end
    return function(...)
      sim.log[#sim.log + 1] = name
      return f(...)
    end
  end,
  __newindex = function() error("scripts do not assign into the reaper table", 2) end,
})

return sim
