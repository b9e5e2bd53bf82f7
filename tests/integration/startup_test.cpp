// A process that cannot start says why in one line and exits with the code of that reason,
// never through std::terminate.
#include "events/startup.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <map>
#include <sstream>

#include "harness.hpp"

using namespace bazaar;
using namespace bazaar::tests;
using namespace std::chrono_literals;

namespace {

// Holds a loopback port with a listening socket of this process while it lives.
class TakenPort {
 public:
  TakenPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd_, 1) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
  }
  ~TakenPort() { ::close(fd_); }
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Outcome {
  int code;
  std::string log;
};

// Runs the probe service with `env` on top of a working configuration until it exits.
Outcome start_probe(const std::string& name, std::map<std::string, std::string> env,
                    std::vector<std::string> args = {}) {
  std::map<std::string, std::string> base{
      {"BAZAAR_PROBE_DB", required_env("BAZAAR_TEST_DB")},
      {"BAZAAR_SCHEMAS_DIR", BAZAAR_TEST_SCHEMAS_DIR},
      {"BAZAAR_PROBE_MIGRATIONS_DIR", BAZAAR_PROBE_MIGRATIONS_DIR},
      {"BAZAAR_STARTUP_WAIT_MS", "500"}};
  for (auto& [k, v] : env) base[k] = v;
  const std::string log = required_env("BAZAAR_RUN_DIR") + "/probe-startup-" + name + ".log";
  ChildProcess probe(BAZAAR_PROBE_BINARY, args, base, log);
  const int code = probe.wait(30s);
  return {code, read_file(log)};
}

}  // namespace

TEST_CASE("a service that cannot start says why in one line and exits with that reason's code") {
  struct Row {
    const char* name;
    std::map<std::string, std::string> env;
    events::ExitCode code;
    const char* says;
  };
  const TakenPort taken;
  const std::string closed = std::to_string(free_port());  // nothing listens there
  const std::vector<Row> rows{
      {"admin-port-taken",
       {{"BAZAAR_PROBE_ADMIN_PORT", std::to_string(taken.port())}},
       events::ExitCode::port_in_use,
       "is in use"},
      {"no-migrations",
       {{"BAZAAR_PROBE_MIGRATIONS_DIR", "/nonexistent/migrations"}},
       events::ExitCode::missing_file,
       "migration folder /nonexistent/migrations does not exist"},
      {"database-down",
       {{"BAZAAR_PROBE_DB", "postgresql://nobody:secret@127.0.0.1:" + closed + "/none"}},
       events::ExitCode::database_unreachable,
       "PostgreSQL at postgresql://nobody:***@"},
      {"broker-down",
       {{"BAZAAR_KAFKA_BROKERS", "127.0.0.1:" + closed}},
       events::ExitCode::broker_unreachable,
       "Kafka at 127.0.0.1:"},
      {"unknown-crash-point",
       {{"BAZAAR_CRASH_AT", "nowhere:2"}},
       events::ExitCode::bad_config,
       "names no crash point: nowhere"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    const auto outcome = start_probe(row.name, row.env);
    CHECK(outcome.code == static_cast<int>(row.code));
    CHECK(outcome.log.find(row.says) != std::string::npos);
    CHECK(outcome.log.find("cannot start") != std::string::npos);
    CHECK(outcome.log.find("terminate") == std::string::npos);
    CHECK(outcome.log.find("secret") == std::string::npos);  // the password never reaches a log
  }
}

TEST_CASE("the processes a test starts die with it when it dies without cleaning up") {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t test_like = ::fork();
  REQUIRE(test_like >= 0);
  if (test_like == 0) {
    // A test binary that starts a service, then dies the way a crash or a timeout's SIGKILL
    // ends it: no destructor runs.
    ::close(pipe_fds[0]);
    ChildProcess service("/bin/sleep", {"120"}, {}, "/dev/null");
    const pid_t pid = service.pid();
    static_cast<void>(::write(pipe_fds[1], &pid, sizeof pid));
    ::kill(::getpid(), SIGKILL);
  }
  ::close(pipe_fds[1]);
  pid_t service = 0;
  const auto got = ::read(pipe_fds[0], &service, sizeof service);
  ::close(pipe_fds[0]);
  int status = 0;
  REQUIRE(::waitpid(test_like, &status, 0) == test_like);
  REQUIRE(got == static_cast<ssize_t>(sizeof service));
  REQUIRE(service > 0);
  // Gone, or a zombie waiting for its new parent to reap it.
  const auto gone = [service] {
    std::ifstream stat("/proc/" + std::to_string(service) + "/stat");
    std::string pid, name, state;
    return !(stat >> pid >> name >> state) || state == "Z";
  };
  const bool died = wait_until(10s, gone);
  if (!died) ::kill(service, SIGKILL);
  CHECK(died);
}
