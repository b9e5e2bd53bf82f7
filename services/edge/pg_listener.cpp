#include "pg_listener.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace bazaar::edge {
namespace {

// How often the thread looks up from an idle socket to see whether it should stop.
constexpr int kPollMs = 200;

struct ConnectionCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Connection = std::unique_ptr<PGconn, ConnectionCloser>;

// Sleeps `d` or until a stop is requested.
void pause(const std::stop_token& stop, std::chrono::milliseconds d) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait_for(lock, stop, d, [] { return false; });
}

// LISTEN on `channel`: true when the server accepted it.
bool listen(PGconn* c, const std::string& channel) {
  char* quoted = PQescapeIdentifier(c, channel.c_str(), channel.size());
  if (quoted == nullptr) return false;
  const std::string statement = std::string("LISTEN ") + quoted;
  PQfreemem(quoted);
  PGresult* r = PQexec(c, statement.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  return ok;
}

// libpq's last message on `c` on one line: its line breaks and tabs become single spaces.
std::string last_error(PGconn* c) {
  const std::string raw = c != nullptr ? PQerrorMessage(c) : "out of memory";
  std::string text;
  for (const char ch : raw) {
    const bool space = ch == '\n' || ch == '\t' || ch == ' ';
    if (!space) {
      text += ch;
    } else if (!text.empty() && text.back() != ' ') {
      text += ' ';
    }
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

}  // namespace

PgListener::PgListener(std::string conninfo, std::string channel, Callbacks callbacks,
                       std::chrono::milliseconds retry)
    : conninfo_(std::move(conninfo)),
      channel_(std::move(channel)),
      callbacks_(std::move(callbacks)),
      retry_(retry),
      thread_([this](const std::stop_token& stop) { run(stop); }) {}

PgListener::~PgListener() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void PgListener::run(const std::stop_token& stop) {
  bool warned = false;
  while (!stop.stop_requested()) {
    const Connection c(PQconnectdb(conninfo_.c_str()));
    if (PQstatus(c.get()) != CONNECTION_OK || !listen(c.get(), channel_)) {
      // Said once per outage; the connection string (it may hold a password) never is.
      if (!warned) spdlog::warn("cannot listen on {}: {}", channel_, last_error(c.get()));
      warned = true;
      pause(stop, retry_);
      continue;
    }
    warned = false;
    spdlog::info("listening on {}", channel_);
    callbacks_.connected(true);
    const int socket = PQsocket(c.get());
    while (!stop.stop_requested()) {
      pollfd fd{socket, POLLIN, 0};
      const int ready = poll(&fd, 1, kPollMs);
      if (ready < 0 && errno != EINTR) break;
      if (ready <= 0) continue;
      if (PQconsumeInput(c.get()) == 0 || PQstatus(c.get()) != CONNECTION_OK) break;
      while (PGnotify* n = PQnotifies(c.get())) {
        const std::string payload = n->extra;
        PQfreemem(n);
        callbacks_.notified(payload);
      }
    }
    callbacks_.connected(false);
    if (!stop.stop_requested()) {
      spdlog::warn("stopped listening on {}: {}", channel_, last_error(c.get()));
    }
  }
}

}  // namespace bazaar::edge
