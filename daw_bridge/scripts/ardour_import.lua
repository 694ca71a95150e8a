-- Ainur: put rendered stems on new tracks of a closed Ardour session, for ardour7-lua.
--
--   ardour7-lua ardour_import.lua <session folder> <snapshot name> <job file>
--
-- Ainur has already added the stems to the session file as external sources with one
-- whole-file region each (daw_bridge/ardour_session.py). The job file has one line per stem,
-- fields separated by TAB:
--
--   REGION <TAB> <whole-file region id> <TAB> <track name> <TAB> <session sample> <TAB> <channels>
--
-- For each line this script creates an audio track, puts a copy of the region on its playlist
-- at the sample, and finally saves the session. It prints one line per placed region,
--   AINUR-PLACED <TAB> <track> <TAB> <position sample> <TAB> <length samples> <TAB> <peak>
-- then "AINUR-DONE <count>"; on any problem "AINUR-ERROR <TAB> <message>", without saving.

local dir, snapshot, job_file = arg[1], arg[2], arg[3]

local function say(text)
  print(text)
  io.stdout:flush()
end

local function split(line)
  local out = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    out[#out + 1] = field
  end
  return out
end

local function read_job(path)
  local jobs = {}
  local f = io.open(path, "r")
  if not f then
    error("cannot read the job file " .. tostring(path), 0)
  end
  for line in f:lines() do
    if line ~= "" then
      local r = split(line)
      if r[1] ~= "REGION" or #r ~= 5 or not tonumber(r[4]) or not tonumber(r[5]) then
        f:close()
        error("bad job line: " .. line, 0)
      end
      jobs[#jobs + 1] = { id = r[2], track = r[3], pos = math.floor(tonumber(r[4])),
                          channels = math.floor(tonumber(r[5])) }
    end
  end
  f:close()
  return jobs
end

local function place(jobs)
  local placed = {}
  for _, job in ipairs(jobs) do
    local whole = ARDOUR.RegionFactory.region_by_id(PBD.ID(job.id))
    if whole:isnil() then
      error("Ardour did not load the audio for track " .. job.track .. " (whole-file region "
            .. job.id .. "): its file is missing or not audio Ardour can read", 0)
    end
    local tracks = Session:new_audio_track(job.channels, 2, nil, 1, job.track,
                                           ARDOUR.PresentationInfo.max_order,
                                           ARDOUR.TrackMode.Normal, true)
    if tracks:size() ~= 1 then
      error("Ardour did not create the track " .. job.track, 0)
    end
    local track = tracks:front()
    local region = ARDOUR.RegionFactory.clone_region(whole, true, false)
    track:playlist():add_region(region, Temporal.timepos_t(job.pos), 1, false)
    local peak = region:to_audioregion():maximum_amplitude(nil)
    placed[#placed + 1] = table.concat({ "AINUR-PLACED", track:name(),
      tostring(region:position():samples()), tostring(region:length():samples()),
      string.format("%.6f", peak) }, "\t")
  end
  return placed
end

if not dir or not snapshot or not job_file then
  say("AINUR-ERROR\tusage: ardour_import.lua <session folder> <snapshot> <job file>")
  quit()
  return
end
local ok, jobs = pcall(read_job, job_file)
if not ok then
  say("AINUR-ERROR\t" .. tostring(jobs))
  quit()
  return
end
if not load_session(dir, snapshot) then
  say("AINUR-ERROR\tArdour cannot load the session " .. dir .. " / " .. snapshot)
  quit()
  return
end
local done, lines = pcall(place, jobs)
if done then
  if Session:save_state("", false, false, false, false, false) ~= 0 then
    say("AINUR-ERROR\tArdour could not save the session")
  else
    for _, line in ipairs(lines) do
      say(line)
    end
    say("AINUR-DONE " .. tostring(#lines))
  end
else
  say("AINUR-ERROR\t" .. tostring(lines))
end
close_session()
quit()
