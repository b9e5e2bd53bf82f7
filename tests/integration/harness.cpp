#include "harness.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <librdkafka/rdkafkacpp.h>
#include <netinet/in.h>
#include <signal.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <cstdlib>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "events/db.hpp"
#include "events/handler.hpp"
#include "events/kafka_client.hpp"
#include "events/migrations.hpp"
#include "events/outbox.hpp"
#include "events/schema_registry.hpp"

extern char** environ;

namespace bazaar::tests {

std::string required_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    FAIL(std::string(name) << " is not set: run integration tests through scripts/test");
  }
  return value;
}

std::string unique_name(const std::string& base) {
  static std::mt19937_64 rng{std::random_device{}()};
  return base + "-" + std::to_string(rng() % 1'000'000'000);
}

bool wait_until(std::chrono::milliseconds timeout, const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return condition();
}

std::unique_ptr<soci::session> connect_test_database() {
  return std::make_unique<soci::session>(soci::postgresql,
                                         events::to_conninfo(required_env("BAZAAR_TEST_DB")));
}

std::unique_ptr<soci::session> clean_test_database() {
  events::Database db(required_env("BAZAAR_TEST_DB"));
  events::migrate(db, "platform", events::platform_migrations());
  events::migrate(db, "probe", events::load_migrations(BAZAAR_PROBE_MIGRATIONS_DIR));
  db.exec_script("TRUNCATE outbox, inbox, probe_applied, relay_lease RESTART IDENTITY");
  return connect_test_database();
}

long long count(soci::session& sql, const std::string& query) {
  long long n = 0;
  sql << query, soci::into(n);
  return n;
}

namespace {

// One record of `record`'s transaction, its events queued in `outbox`.
void apply_record(events::Handler& handler, const HandlerBench& bench, events::OutboxWriter& outbox,
                  const events::Envelope& record) {
  events::HandlerContext ctx{record, bench.sql, outbox, bench.factory, bench.clock};
  handler.apply(ctx);
}

}  // namespace

events::Envelope order_event(const events::EnvelopeFactory& factory, std::string type,
                             boost::json::object data) {
  const std::string subject(data.at("order_id").as_string());
  return factory.make(std::move(type), subject, std::move(data));
}

std::vector<std::string> fresh_ids(events::UuidV7Generator& ids, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(ids.next().str());
  return out;
}

void apply_together(events::Handler& handler, const HandlerBench& bench,
                    const std::vector<events::Envelope>& records,
                    const std::function<void()>& while_open) {
  soci::transaction tx(bench.sql);
  handler.begin(bench.sql);
  std::vector<const events::Envelope*> batch;
  for (const auto& e : records) batch.push_back(&e);
  handler.lock_ahead(bench.sql, batch);
  if (while_open) while_open();
  events::OutboxWriter outbox(bench.sql, bench.schemas, events::OutboxWriter::Write::at_flush);
  for (const auto& e : records) apply_record(handler, bench, outbox, e);
  handler.before_commit(bench.sql, outbox);
  outbox.flush();
  tx.commit();
}

void apply_one_by_one(events::Handler& handler, const HandlerBench& bench,
                      const std::vector<events::Envelope>& records) {
  for (const auto& e : records) {
    soci::transaction tx(bench.sql);
    handler.begin(bench.sql);
    events::OutboxWriter outbox(bench.sql, bench.schemas, events::OutboxWriter::Write::at_flush);
    apply_record(handler, bench, outbox, e);
    handler.before_commit(bench.sql, outbox);
    outbox.flush();
    tx.commit();
  }
}

void create_topic(const std::string& name, int partitions) {
  const auto made =
      events::ensure_topics(required_env("BAZAAR_KAFKA_BROKERS"), {{name, partitions, 1}});
  REQUIRE_MESSAGE(made.ok(), (made.ok() ? "" : made.error().message));
}

events::Envelope probe_event(events::EnvelopeFactory& factory, const std::string& key, int seq,
                             const std::string& fail) {
  return factory.make("bazaar.test.Probe.v1", key,
                      boost::json::object{{"key", key}, {"seq", seq}, {"fail", fail}});
}

events::OutgoingRecord record_of(const std::string& topic, const events::Envelope& e) {
  return {topic, e.subject, events::encode_payload(e), events::to_headers(e)};
}

std::string ConsumedRecord::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

std::vector<ConsumedRecord> read_topic(const std::string& topic, std::size_t expected,
                                       std::chrono::milliseconds timeout) {
  auto conf = events::make_kafka_conf({{"bootstrap.servers", required_env("BAZAAR_KAFKA_BROKERS")},
                                       {"group.id", unique_name("reader")},
                                       {"enable.auto.commit", "false"},
                                       {"auto.offset.reset", "earliest"}});
  std::string err;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), err));
  REQUIRE_MESSAGE(consumer, err);
  REQUIRE(consumer->subscribe({topic}) == RdKafka::ERR_NO_ERROR);
  std::vector<ConsumedRecord> out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto quiet_until = std::chrono::steady_clock::time_point::max();
  while (std::chrono::steady_clock::now() < std::min(deadline, quiet_until)) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(100));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    ConsumedRecord r;
    r.key = m->key() != nullptr ? *m->key() : std::string{};
    r.value.assign(static_cast<const char*>(m->payload()), m->len());
    r.partition = m->partition();
    r.offset = m->offset();
    if (const RdKafka::Headers* h = m->headers()) {
      for (const auto& header : h->get_all()) {
        r.headers.emplace_back(header.key(), std::string(static_cast<const char*>(header.value()),
                                                         header.value_size()));
      }
    }
    out.push_back(std::move(r));
    if (out.size() >= expected && quiet_until == std::chrono::steady_clock::time_point::max()) {
      quiet_until = std::chrono::steady_clock::now() + std::chrono::milliseconds{1500};
    }
  }
  consumer->close();
  return out;
}

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& extra_env,
                           const std::string& log_path) {
  std::vector<std::string> env_strings;
  // getenv finds the first entry of a name: inherited ones that `extra_env` sets must go.
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    if (!extra_env.contains(entry.substr(0, entry.find('=')))) env_strings.push_back(entry);
  }
  for (const auto& [k, v] : extra_env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings{program};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  const pid_t parent = getpid();
  pid_ = fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    // A test binary that crashes or is killed on a timeout runs no destructor: its services
    // must not live on in the consumer groups of the tests after it. The signal comes when the
    // forking thread ends, and every child is started from the test's own thread.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(program.c_str(), argv.data(), envp.data());
    _exit(127);
  }
}

ChildProcess::~ChildProcess() {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

void ChildProcess::signal(int sig) {
  ::kill(pid_, sig);
}

int ChildProcess::wait(std::chrono::milliseconds timeout) {
  int status = 0;
  const bool exited = wait_until(timeout, [&] { return waitpid(pid_, &status, WNOHANG) == pid_; });
  if (!exited) return -1;
  reaped_ = true;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

std::uint16_t free_port() {
  // The kernel may hand the same free port out twice in a row: a port this process gave out
  // once (a service's public port, then its admin port) is never given again.
  static std::mutex mutex;
  static std::set<std::uint16_t> given;
  std::lock_guard lock(mutex);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    const std::uint16_t port = ntohs(addr.sin_port);
    if (given.insert(port).second) return port;
  }
  FAIL("no loopback port that was not given out before");
  return 0;
}

std::pair<int, std::string> http_get(std::uint16_t port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return {0, {}};
  }
  const std::string request =
      "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  (void)::write(fd, request.data(), request.size());
  std::string response;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) response.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  if (response.size() < 12) return {0, {}};
  const int status = std::stoi(response.substr(9, 3));
  const auto body_at = response.find("\r\n\r\n");
  return {status, body_at == std::string::npos ? std::string{} : response.substr(body_at + 4)};
}

}  // namespace bazaar::tests
