#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace bazaar::edge {

/// A connection of its own that LISTENs on one PostgreSQL channel, on its own thread: every
/// notification's payload goes to `notified`, and `connected` hears when it starts listening
/// and when the connection is lost (notifications sent meanwhile are lost with it). It
/// reconnects every `retry` until destroyed.
class PgListener {
 public:
  struct Callbacks {
    std::function<void(const std::string& payload)> notified;
    std::function<void(bool listening)> connected;
  };

  PgListener(std::string conninfo, std::string channel, Callbacks callbacks,
             std::chrono::milliseconds retry = std::chrono::seconds{1});
  /// Stops listening and joins the thread.
  ~PgListener();
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;

 private:
  void run(const std::stop_token& stop);

  std::string conninfo_;
  std::string channel_;
  Callbacks callbacks_;
  std::chrono::milliseconds retry_;
  std::jthread thread_;  // last: started once everything it reads is set
};

}  // namespace bazaar::edge
