-- Run by tests/e2e/milter-postfix.sh: miltertest -D port=PORT -s miltertest.lua
-- lexguard-milter through libmilter's miltertest: block-level content is rejected with
-- 550 5.7.1, clean content accepted.
local conn = mt.connect("inet:" .. port .. "@127.0.0.1", 30, 0.1)
if conn == nil then error("cannot connect to the milter") end
if mt.conninfo(conn, "client.example", "192.0.2.7") ~= nil then error("conninfo") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("conninfo not continued") end
if mt.mailfrom(conn, "<a@example.net>") ~= nil then error("mailfrom") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("mailfrom not continued") end
if mt.rcptto(conn, "<b@example.com>") ~= nil then error("rcptto") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("rcptto not continued") end
if mt.header(conn, "Subject", "hello") ~= nil then error("header") end
if mt.bodystring(conn, "欢迎来到在线赌场\r\n") ~= nil then error("body") end
if mt.eom(conn) ~= nil then error("eom") end
if mt.getreply(conn) ~= SMFIR_REPLYCODE then error("expected a reply code (reject), got " .. tostring(mt.getreply(conn))) end
-- A second, clean message on the same connection is accepted.
if mt.mailfrom(conn, "<a@example.net>") ~= nil then error("mailfrom 2") end
if mt.rcptto(conn, "<b@example.com>") ~= nil then error("rcptto 2") end
if mt.header(conn, "Subject", "meeting") ~= nil then error("header 2") end
if mt.bodystring(conn, "明天下午三点开会。\r\n") ~= nil then error("body 2") end
if mt.eom(conn) ~= nil then error("eom 2") end
if mt.getreply(conn) ~= SMFIR_ACCEPT and mt.getreply(conn) ~= SMFIR_CONTINUE then error("clean message not accepted") end
mt.disconnect(conn)
print("miltertest: block-level message rejected, clean message accepted")
