-- Ainur bridge for REAPER (ReaScript, Lua). Register it once in the Action List
-- ("New action..." > "Load ReaScript..."), then copy its command ID ("_RS...") into
-- `ainur serve --daw reaper --reaper-command _RS...`.
--
-- Protocol: the Ainur bridge writes a job file, stores its path in ExtState
-- ("ainur", "job") through REAPER's web interface, and runs this action. The script reads
-- the job, does it, and acknowledges in ExtState ("ainur", "ack") as "ID<TAB>ok<TAB>text"
-- or "ID<TAB>error<TAB>text".
--
-- Job file (UTF-8, one record per line, fields separated by TAB):
--   AINUR_JOB  1
--   ID         <job id>
--   ACTION     import | export
--   UNDO       <undo point text>                       (import)
--   MARKER     <seconds>  <name>                        (import: a marker per section)
--   TRACK      <seconds>  <track name>  <audio path>    (import: one new track per stem)
--   OUT        <path of the session file to write>     (export)
--
-- An import inserts every stem on a new track at its position, and the markers, in one undo
-- block. An export writes the tempo map, markers, regions and length of the project.

local SECTION = "ainur"

local function split_tabs(line)
  local out = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do out[#out + 1] = field end
  return out
end

local function ack(id, status, text)
  reaper.SetExtState(SECTION, "ack", (id or "") .. "\t" .. status .. "\t" .. (text or ""), false)
end

local function read_job(path)
  local f = io.open(path, "r")
  if not f then return nil, "cannot open the job file " .. path end
  local job = { markers = {}, tracks = {} }
  local first = true
  for line in f:lines() do
    line = line:gsub("\r$", "")
    local t = split_tabs(line)
    if first then
      if t[1] ~= "AINUR_JOB" or t[2] ~= "1" then f:close(); return nil, "not an Ainur job file" end
      first = false
    elseif t[1] == "ID" then job.id = t[2]
    elseif t[1] == "ACTION" then job.action = t[2]
    elseif t[1] == "UNDO" then job.undo = t[2]
    elseif t[1] == "OUT" then job.out = t[2]
    elseif t[1] == "MARKER" then
      job.markers[#job.markers + 1] = { pos = tonumber(t[2]), name = t[3] or "" }
    elseif t[1] == "TRACK" then
      job.tracks[#job.tracks + 1] = { pos = tonumber(t[2]), name = t[3] or "", path = t[4] or "" }
    end
  end
  f:close()
  if first then return nil, "the job file is empty" end
  return job
end

local function do_import(job)
  for _, tr in ipairs(job.tracks) do
    if not tr.pos or tr.path == "" then return false, "a TRACK line has no position or path" end
    local f = io.open(tr.path, "rb")
    if not f then return false, "audio file not found: " .. tr.path end
    f:close()
  end
  local cursor = reaper.GetCursorPosition()
  reaper.PreventUIRefresh(1)
  reaper.Undo_BeginBlock2(0)
  local base = reaper.CountTracks(0)
  for i, tr in ipairs(job.tracks) do
    local index = base + i - 1
    reaper.InsertTrackAtIndex(index, true)
    local track = reaper.GetTrack(0, index)
    reaper.GetSetMediaTrackInfo_String(track, "P_NAME", tr.name, true)
    reaper.SetOnlyTrackSelected(track)
    reaper.SetEditCurPos(tr.pos, false, false)
    reaper.InsertMedia(tr.path, 0)
  end
  for _, m in ipairs(job.markers) do
    if m.pos then reaper.AddProjectMarker2(0, false, m.pos, 0, m.name, -1, 0) end
  end
  reaper.SetEditCurPos(cursor, false, false)
  reaper.Undo_EndBlock2(0, job.undo or "Ainur: import stems", -1)
  reaper.PreventUIRefresh(-1)
  reaper.UpdateArrange()
  return true, tostring(#job.tracks) .. " tracks, " .. tostring(#job.markers) .. " markers"
end

local function do_export(job)
  if not job.out or job.out == "" then return false, "the job has no OUT path" end
  local f = io.open(job.out, "w")
  if not f then return false, "cannot write " .. job.out end
  local function qn(t) return reaper.TimeMap2_timeToQN(0, t) end
  f:write("AINUR_SESSION\t1\n")
  local length = reaper.GetProjectLength(0)
  f:write(string.format("LENGTH\t%.12f\t%.12f\n", length, qn(length)))
  local n_tempo = reaper.CountTempoTimeSigMarkers(0)
  local num0, den0, bpm0 = reaper.TimeMap_GetTimeSigAtTime(0, 0)
  f:write(string.format("TEMPO\t0\t0\t%.12f\t%d\t%d\t0\n", bpm0, num0, den0))
  for i = 0, n_tempo - 1 do
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
    if ok then
      name = (name or ""):gsub("[\t\r\n]", " ")
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
    f:write("TRACK\t" .. (name or ""):gsub("[\t\r\n]", " ") .. "\n")
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
    ok, text = false, "unknown ACTION " .. tostring(job.action)
  end
  ack(job.id, ok and "ok" or "error", text)
end

main()
