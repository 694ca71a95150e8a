-- Ainur bridge for REAPER (ReaScript, Lua 5.4 as embedded in REAPER 6/7).
--
-- One-time setup: Actions > Show action list > New action... > Load ReaScript..., pick this
-- file, then right-click it > Copy selected action command ID ("_RS...") and pass that to
-- Ainur (`ainur serve --daw reaper --reaper-command _RS...`, or the same option of
-- `ainur place`). Enable the web interface (Preferences > Control/OSC/web > Add > Web browser
-- interface) so Ainur can set ExtState and run the action.
--
-- Protocol: Ainur writes a job file, stores its absolute path in ExtState section "ainur",
-- key "job" (GET/SET/EXTSTATE over the web interface), and runs this action. The script
-- reads the job, does it and answers in ExtState "ainur"/"ack":
--   "<id>\tok\t<n> tracks, <m> markers"   (import)   or   "<id>\tok\twritten <path>" (export)
--   "<id>\terror\t<message>"              (id empty when the job itself could not be read)
--
-- Job file: UTF-8, one record per line, fields separated by one TAB (fields hold no TAB or
-- line break), numbers in decimal seconds with "." as separator, absolute paths:
--   AINUR_JOB  1                                       first line: format version 1
--   ID         <job id>
--   ACTION     import | export
--   UNDO       <undo point text>                       import, optional
--   MARKER     <seconds>  <name>                       import: one project marker each
--   TRACK      <seconds>  <track name>  <audio path>  [<length seconds>  [<mute 0|1>]]
--                                                      import: one new track each, holding
--                                                      the file at <seconds>, cut to <length>
--   OUT        <path of the session file to write>     export
-- Unknown record types are ignored (newer Ainur versions may add some).
--
-- import: checks every record and file first (nothing is changed when one is bad), then, in
-- one undo block with UI refresh held: appends one named track per TRACK (muted when asked),
-- inserts its file on it at the edit cursor moved to <seconds> (InsertMedia), puts the item
-- exactly at <seconds> with its exact length, adds one marker per MARKER, restores the edit
-- cursor.
-- export: writes the tempo map, markers, regions, tracks and length of the project to OUT:
--   AINUR_SESSION 1 / LENGTH s qn / TEMPO s qn bpm num den linear / MARKER s qn name /
--   REGION s qn end_s end_qn name / TRACK name / NOTE track chan start_qn end_qn pitch vel /
--   END     (TAB-separated, s = seconds, qn = quarter notes from the project start)
-- NOTE: every unmuted note of every unmuted MIDI item (its active take) that sounds in the
-- project, track = 0-based track index: notes starting inside the item, cut at its end, and
-- repeated for each pass of a looped item.

local SECTION = "ainur"
local SET_LAST_TOUCHED = 40914 -- Track: Set first selected track as last touched track

local function split_tabs(line)
  local out = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do out[#out + 1] = field end
  return out
end

local function one_line(text)
  return (tostring(text or ""):gsub("[\t\r\n]", " "))
end

local function ack(id, status, text)
  reaper.SetExtState(SECTION, "ack", one_line(id) .. "\t" .. status .. "\t" .. one_line(text), false)
end

local function read_job(path)
  local f = io.open(path, "r")
  if not f then return nil, "cannot open the job file " .. path end
  local job = { markers = {}, tracks = {} }
  local n = 0
  for line in f:lines() do
    n = n + 1
    line = line:gsub("\r$", "")
    local t = split_tabs(line)
    if n == 1 then
      if t[1] ~= "AINUR_JOB" then f:close(); return nil, "not an Ainur job file: " .. path end
      if t[2] ~= "1" then
        f:close(); return nil, "job format version " .. tostring(t[2]) .. " is not supported (1 is)"
      end
    elseif t[1] == "ID" then job.id = t[2]
    elseif t[1] == "ACTION" then job.action = t[2]
    elseif t[1] == "UNDO" then job.undo = t[2]
    elseif t[1] == "OUT" then job.out = t[2]
    elseif t[1] == "MARKER" then
      job.markers[#job.markers + 1] = { line = n, pos = tonumber(t[2]), name = t[3] or "" }
    elseif t[1] == "TRACK" then
      job.tracks[#job.tracks + 1] = {
        line = n, pos = tonumber(t[2]), name = t[3] or "", path = t[4] or "",
        length = t[5] and t[5] ~= "" and tonumber(t[5]) or nil, length_text = t[5],
        mute = t[6] == "1",
      }
    end
  end
  f:close()
  if n == 0 then return nil, "the job file is empty: " .. path end
  return job
end

local function check_import(job)
  if #job.tracks == 0 and #job.markers == 0 then return "the job has nothing to import" end
  for _, m in ipairs(job.markers) do
    if not m.pos or m.pos < 0 then return "job line " .. m.line .. ": MARKER needs a position >= 0" end
  end
  for _, tr in ipairs(job.tracks) do
    if not tr.pos or tr.pos < 0 then return "job line " .. tr.line .. ": TRACK needs a position >= 0" end
    if tr.path == "" then return "job line " .. tr.line .. ": TRACK has no audio path" end
    if tr.length_text and tr.length_text ~= "" and not (tr.length and tr.length > 0) then
      return "job line " .. tr.line .. ": TRACK length must be > 0"
    end
    local f = io.open(tr.path, "rb")
    if not f then return "audio file not found: " .. tr.path end
    f:close()
  end
  return nil
end

local function insert_all(job, counts)
  for _, tr in ipairs(job.tracks) do
    local index = reaper.CountTracks(0)
    reaper.InsertTrackAtIndex(index, true)
    local track = reaper.GetTrack(0, index)
    if not track then error("REAPER did not create a track for " .. tr.path) end
    reaper.GetSetMediaTrackInfo_String(track, "P_NAME", tr.name ~= "" and tr.name or "Ainur stem", true)
    if tr.mute then reaper.SetMediaTrackInfo_Value(track, "B_MUTE", 1) end
    counts.tracks = counts.tracks + 1
    reaper.SetOnlyTrackSelected(track)
    reaper.Main_OnCommand(SET_LAST_TOUCHED, 0)
    reaper.SetEditCurPos(tr.pos, false, false)
    local before = reaper.CountTrackMediaItems(track)
    reaper.InsertMedia(tr.path, 0)
    if reaper.CountTrackMediaItems(track) ~= before + 1 then
      error("REAPER did not insert " .. tr.path .. " on track '" .. tr.name .. "'")
    end
    local item = reaper.GetTrackMediaItem(track, before)
    reaper.SetMediaItemPosition(item, tr.pos, false)
    if tr.length then reaper.SetMediaItemLength(item, tr.length, false) end
    counts.items = counts.items + 1
  end
  for _, m in ipairs(job.markers) do
    reaper.AddProjectMarker2(0, false, m.pos, 0, m.name, -1, 0)
    counts.markers = counts.markers + 1
  end
end

local function do_import(job)
  local problem = check_import(job)
  if problem then return false, problem end
  local cursor = reaper.GetCursorPosition()
  local counts = { tracks = 0, items = 0, markers = 0 }
  reaper.PreventUIRefresh(1)
  reaper.Undo_BeginBlock2(0)
  local ok, err = pcall(insert_all, job, counts)
  reaper.SetEditCurPos(cursor, false, false)
  reaper.Undo_EndBlock2(0, job.undo or "Ainur: import stems", -1)
  reaper.PreventUIRefresh(-1)
  reaper.UpdateArrange()
  reaper.UpdateTimeline()
  if not ok then
    return false, tostring(err) .. " (after " .. counts.tracks .. " tracks, " .. counts.markers
      .. " markers; Undo removes them)"
  end
  return true, counts.items .. " tracks, " .. counts.markers .. " markers"
end

local function do_export(job)
  if not job.out or job.out == "" then return false, "the job has no OUT path" end
  local f = io.open(job.out, "w")
  if not f then return false, "cannot write " .. job.out end
  local function qn(t) return reaper.TimeMap2_timeToQN(0, t) end
  f:write("AINUR_SESSION\t1\n")
  local length = reaper.GetProjectLength(0)
  f:write(string.format("LENGTH\t%.12f\t%.12f\n", length, qn(length)))
  local num0, den0, bpm0 = reaper.TimeMap_GetTimeSigAtTime(0, 0)
  f:write(string.format("TEMPO\t0\t0\t%.12f\t%d\t%d\t0\n", bpm0, num0, den0))
  for i = 0, reaper.CountTempoTimeSigMarkers(0) - 1 do
    local ok, pos, _, _, bpm, _, _, linear = reaper.GetTempoTimeSigMarker(0, i)
    if ok then
      local num, den = reaper.TimeMap_GetTimeSigAtTime(0, pos + 1e-9)
      f:write(string.format("TEMPO\t%.12f\t%.12f\t%.12f\t%d\t%d\t%d\n", pos, qn(pos), bpm, num,
                            den, linear and 1 or 0))
    end
  end
  local _, n_markers, n_regions = reaper.CountProjectMarkers(0)
  for i = 0, n_markers + n_regions - 1 do
    local ok, isrgn, pos, rgnend, name = reaper.EnumProjectMarkers3(0, i)
    if ok and ok ~= 0 then
      name = one_line(name)
      if isrgn then
        f:write(string.format("REGION\t%.12f\t%.12f\t%.12f\t%.12f\t%s\n", pos, qn(pos), rgnend,
                              qn(rgnend), name))
      else
        f:write(string.format("MARKER\t%.12f\t%.12f\t%s\n", pos, qn(pos), name))
      end
    end
  end
  for i = 0, reaper.CountTracks(0) - 1 do
    local _, name = reaper.GetSetMediaTrackInfo_String(reaper.GetTrack(0, i), "P_NAME", "", false)
    f:write("TRACK\t" .. one_line(name) .. "\n")
  end
  for i = 0, reaper.CountTracks(0) - 1 do
    local track = reaper.GetTrack(0, i)
    for j = 0, reaper.CountTrackMediaItems(track) - 1 do
      local item = reaper.GetTrackMediaItem(track, j)
      local take = reaper.GetActiveTake(item)
      if take and reaper.TakeIsMIDI(take) and reaper.GetMediaItemInfo_Value(item, "B_MUTE") == 0 then
        local pos = reaper.GetMediaItemInfo_Value(item, "D_POSITION")
        local a, b = qn(pos), qn(pos + reaper.GetMediaItemInfo_Value(item, "D_LENGTH"))
        local loop = 0
        if reaper.GetMediaItemInfo_Value(item, "B_LOOPSRC") == 1 then
          local len, is_qn = reaper.GetMediaSourceLength(reaper.GetMediaItemTake_Source(take))
          if is_qn and len > 0 then loop = len end
        end
        local _, count = reaper.MIDI_CountEvts(take)
        for k = 0, count - 1 do
          local ok, _, muted, start_ppq, end_ppq, chan, pitch, vel = reaper.MIDI_GetNote(take, k)
          if ok and not muted then
            local s = reaper.MIDI_GetProjQNFromPPQPos(take, start_ppq)
            local e = reaper.MIDI_GetProjQNFromPPQPos(take, end_ppq)
            local shift = 0
            while s + shift < b do
              if s + shift >= a then
                f:write(string.format("NOTE\t%d\t%d\t%.12f\t%.12f\t%d\t%d\n", i, chan, s + shift,
                                      math.min(e + shift, b), pitch, vel))
              end
              if loop <= 0 then break end
              shift = shift + loop
            end
          end
        end
      end
    end
  end
  f:write("END\n")
  f:close()
  return true, "written " .. job.out
end

local function main()
  local path = reaper.GetExtState(SECTION, "job")
  if path == nil or path == "" then
    ack("", "error", "no job: ExtState ainur/job is empty (run this action through Ainur)")
    return
  end
  local job, err = read_job(path)
  if not job then ack("", "error", err); return end
  local ok, text
  if job.action == "import" then
    ok, text = do_import(job)
  elseif job.action == "export" then
    ok, text = do_export(job)
  else
    ok, text = false, "unknown ACTION " .. tostring(job.action) .. " (import or export)"
  end
  ack(job.id, ok and "ok" or "error", text)
end

main()
