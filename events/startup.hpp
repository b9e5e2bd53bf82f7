#pragma once

#include <functional>
#include <stdexcept>
#include <string>

namespace bazaar::events {

/// Exit codes of a service process, one per reason it could not start, so that a supervisor
/// (scripts/run, systemd, an orchestrator) can tell a taken port from a dead database.
enum class ExitCode : int {
  ok = 0,
  failed = 1,                ///< a running component stopped on an error
  port_in_use = 3,           ///< a port to listen on is taken
  missing_file = 4,          ///< a schema folder, migration folder or document is missing
  database_unreachable = 5,  ///< PostgreSQL did not answer within the start-up wait
  broker_unreachable = 6,    ///< Kafka did not answer within the start-up wait
  bad_config = 7,            ///< a setting is present but unusable
};

/// Why a process cannot start; `main` turns it into one log line and its exit code.
class StartupError : public std::runtime_error {
 public:
  StartupError(ExitCode code, const std::string& what) : std::runtime_error(what), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

/// Runs a service's `main` body: a StartupError becomes one line naming the cause and its
/// exit code, any other exception one line and ExitCode::failed; nothing reaches
/// std::terminate. Returns the process's exit status.
int run_main(const std::string& program, const std::function<int()>& body);

}  // namespace bazaar::events
