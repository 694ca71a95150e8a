-- Ainur: keep an Ardour session open without a GUI, for ardour7-lua (Ardour's luasession).
--
--   ardour7-lua ardour_host.lua <session folder> <snapshot name> <stop file> [<parent pid>]
--
-- Loads the session on the "None (Dummy)" audio backend, so its control surfaces (e.g. the
-- Open Sound Control surface, when the session or the user config enables it) answer as in
-- the GUI. Prints "AINUR-READY <sample rate>" once loaded, then waits until <stop file>
-- exists (or <parent pid> is gone); a stop file that contains "save" saves the session first.
-- Prints "AINUR-CLOSED" after closing it, or "AINUR-FAILED <why>" when it cannot load.

local dir, snapshot, stop_file, parent = arg[1], arg[2], arg[3], arg[4]

local function say(text)
  print(text)
  io.stdout:flush()
end

if not dir or not snapshot or not stop_file then
  say("AINUR-FAILED usage: ardour_host.lua <session folder> <snapshot> <stop file> [<parent pid>]")
  quit()
  return
end

if not load_session(dir, snapshot) then
  say("AINUR-FAILED cannot load session " .. dir .. " / " .. snapshot)
  quit()
  return
end
say("AINUR-READY " .. tostring(Session:nominal_sample_rate()))

local function exists(path)
  local f = io.open(path, "r")
  if f then
    local text = f:read("a") or ""
    f:close()
    return true, text
  end
  return false, nil
end

local save = false
while true do
  sleep(0.05)
  local stop, text = exists(stop_file)
  if stop then
    save = text:find("save", 1, true) ~= nil
    break
  end
  if parent and not exists("/proc/" .. parent .. "/stat") then
    break
  end
end

if save then
  Session:save_state("", false, false, false, false, false)
end
close_session()
say("AINUR-CLOSED")
quit()
