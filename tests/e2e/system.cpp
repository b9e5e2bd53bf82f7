#include "system.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/array.hpp>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "events/config.hpp"
#include "events/db.hpp"

namespace bazaar::e2e {

using namespace std::chrono_literals;

namespace {

std::string db_url(const std::string& service) {
  return tests::required_env((events::env_prefix(service) + "DB").c_str());
}

long long scalar(soci::session& sql, const std::string& query, const std::string& param) {
  long long n = 0;
  std::string p = param;
  soci::indicator ind = soci::i_ok;
  sql << query, soci::use(p), soci::into(n, ind);
  return ind == soci::i_null ? 0 : n;
}

}  // namespace

System::System(std::map<std::string, Env> overrides, std::vector<std::string> services)
    : overrides_(std::move(overrides)), log_dir_(tests::required_env("BAZAAR_RUN_DIR")) {
  for (const auto& s : services) start(s);
}

System::~System() {
  for (auto& [name, p] : processes_) {
    if (p) p->signal(SIGTERM);
  }
  for (auto& [name, p] : processes_) {
    if (p) CHECK_MESSAGE(p->wait(30s) == 0, name << " did not stop cleanly on SIGTERM");
  }
}

void System::start(const std::string& service) {
  start_instance(service, service, {});
}

// Where the service binaries are: the build's, unless BAZAAR_TEST_SERVICES_DIR names a copy
// (scripts/chaos runs a snapshot, so a rebuild during a long run changes nothing in it).
namespace {
std::string services_dir() {
  const char* dir = std::getenv("BAZAAR_TEST_SERVICES_DIR");
  return dir != nullptr && *dir != '\0' ? std::string(dir) : std::string(BAZAAR_SERVICES_DIR);
}
}  // namespace

void System::start_instance(const std::string& instance, const std::string& service,
                            const Env& extra, bool wait_ready) {
  const std::uint16_t admin = tests::free_port();
  admin_ports_[instance] = admin;
  Env env{{events::env_prefix(service) + "ADMIN_PORT", std::to_string(admin)}};
  for (const auto& [k, v] : overrides_[service]) env[k] = v;
  for (const auto& [k, v] : extra) env[k] = v;
  const std::string binary = services_dir() + "/" + service + "/bazaar-" + service;
  // A restarted instance appends to the log of the one before it.
  std::string log = instance;
  for (char& c : log) {
    if (c == '#' || c == '/') c = '-';
  }
  const std::string log_path = log_dir_ + "/e2e-" + log + ".log";
  processes_[instance] =
      std::make_unique<tests::ChildProcess>(binary, std::vector<std::string>{}, env, log_path);
  if (!wait_ready) return;
  const bool ready =
      tests::wait_until(60s, [&] { return tests::http_get(admin, "/health/ready").first == 200; });
  REQUIRE_MESSAGE(ready, instance << " did not become ready; see " << log_path);
}

void System::reconnect_dbs() {
  dbs_.clear();
}

int System::pid(const std::string& instance) const {
  const auto it = processes_.find(instance);
  return it == processes_.end() || !it->second ? 0 : it->second->pid();
}

void System::signal(const std::string& instance, int sig) {
  processes_.at(instance)->signal(sig);
}

int System::await_exit(const std::string& instance, std::chrono::milliseconds timeout) {
  auto& p = processes_.at(instance);
  const int code = p->wait(timeout);
  if (code != -1) p.reset();
  return code;
}

void System::kill(const std::string& service) {
  auto& p = processes_.at(service);
  p->signal(SIGKILL);
  CHECK(p->wait(10s) == 128 + SIGKILL);
  p.reset();
}

void System::stop(const std::string& service) {
  auto& p = processes_.at(service);
  p->signal(SIGTERM);
  CHECK(p->wait(30s) == 0);
  p.reset();
}

soci::session& System::db(const std::string& service) {
  auto& s = dbs_[service];
  if (!s) {
    s = std::make_unique<soci::session>(soci::postgresql, events::to_conninfo(db_url(service)));
  }
  return *s;
}

Run bazaarctl(const std::vector<std::string>& args, const std::string& brokers) {
  // Each test case runs in a process of its own: the name must not repeat across them.
  const std::string log =
      tests::required_env("BAZAAR_RUN_DIR") + "/" + tests::unique_name("bazaarctl") + ".log";
  const std::string err_log = log + ".err";
  std::map<std::string, std::string> env{{"BAZAARCTL_TIMEOUT_MS", "5000"},
                                         {"BAZAARCTL_TEST_ERR_LOG", err_log}};
  if (!brokers.empty()) env["BAZAAR_KAFKA_BROKERS"] = brokers;
  // Standard output and standard error apart, as a pipe into another tool sees them.
  std::vector<std::string> sh_args{"-c", R"(exec "$0" "$@" 2>"$BAZAARCTL_TEST_ERR_LOG")",
                                   services_dir() + "/bazaarctl/bazaarctl"};
  sh_args.insert(sh_args.end(), args.begin(), args.end());
  tests::ChildProcess p("/bin/sh", sh_args, env, log);
  Run r;
  r.code = p.wait(60s);
  const auto read = [](const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  r.stdout_text = read(log);
  r.out = r.stdout_text + read(err_log);
  return r;
}

Bus::Bus() = default;

std::string Bus::new_id() {
  return ids_.next().str();
}

events::Envelope Bus::send(const std::string& topic, const std::string& type,
                           const std::string& key, boost::json::object payload, bool twice,
                           const std::string& cause) {
  events::Envelope e = make(type, key, std::move(payload), cause);
  std::vector<events::OutgoingRecord> records{tests::record_of(topic, e)};
  if (twice) records.push_back(records.front());
  for (const auto& r : producer_.send(records, 30s)) REQUIRE_MESSAGE(r.delivered, r.error);
  return e;
}

std::vector<events::Envelope> Bus::send_all(
    const std::string& topic, const std::string& type,
    std::vector<std::pair<std::string, boost::json::object>> events) {
  std::vector<events::Envelope> sent;
  std::vector<events::OutgoingRecord> records;
  for (auto& [key, payload] : events) {
    sent.push_back(make(type, key, std::move(payload), {}));
    records.push_back(tests::record_of(topic, sent.back()));
  }
  for (const auto& r : producer_.send(records, 30s)) REQUIRE_MESSAGE(r.delivered, r.error);
  return sent;
}

events::Envelope Bus::make(const std::string& type, const std::string& key,
                           boost::json::object payload, const std::string& cause) {
  events::Envelope e = factory_.make(type, key, std::move(payload));
  e.correlation_id = key;
  e.causation_id = cause;
  return e;
}

WebhookReceiver::WebhookReceiver(int fail_first, std::string failure, std::string success)
    : fail_first_(fail_first), failure_(std::move(failure)), success_(std::move(success)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  REQUIRE(::listen(listen_fd_, 16) == 0);
  thread_ = std::thread([this] { serve(); });
}

WebhookReceiver::~WebhookReceiver() {
  stop_.store(true);
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  thread_.join();
}

std::string WebhookReceiver::url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/hooks/bazaar";
}

std::string WebhookReceiver::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>>
WebhookReceiver::arrivals() const {
  std::lock_guard lock(mutex_);
  return arrivals_;
}

std::vector<std::string> WebhookReceiver::bodies() const {
  std::lock_guard lock(mutex_);
  return bodies_;
}

void WebhookReceiver::serve() {
  while (!stop_.load()) {
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string data;
    char buf[4096];
    std::size_t need = std::string::npos;
    while (true) {
      const auto header_end = data.find("\r\n\r\n");
      if (header_end != std::string::npos && need == std::string::npos) {
        std::string lower = data.substr(0, header_end);
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const auto cl = lower.find("content-length:");
        const std::size_t length =
            cl == std::string::npos
                ? 0
                : std::stoul(lower.substr(cl + 15, lower.find("\r\n", cl) - cl - 15));
        need = header_end + 4 + length;
      }
      if (need != std::string::npos && data.size() >= need) break;
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      data.append(buf, static_cast<std::size_t>(n));
    }
    const int index = requests_.fetch_add(1);
    const bool fail = index < fail_first_;
    {
      std::lock_guard lock(mutex_);
      const auto space = data.find(' ');
      const auto end = space == std::string::npos ? space : data.find(' ', space + 1);
      arrivals_.emplace_back(
          end == std::string::npos ? "" : data.substr(space + 1, end - space - 1),
          std::chrono::steady_clock::now());
      if (!fail && need != std::string::npos) {
        bodies_.push_back(data.substr(data.find("\r\n\r\n") + 4));
      }
    }
    const std::string response =
        fail ? (failure_.empty() ? "HTTP/1.1 500 Internal Server Error\r\nContent-Length: "
                                   "0\r\nConnection: close\r\n\r\n"
                                 : failure_)
             : (success_.empty() ? "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
                                 : success_);
    (void)::write(fd, response.data(), response.size());
    ::close(fd);
  }
}

std::string Shop::list_product(const std::string& seller, long long price, long long stock,
                               bool twice) {
  const std::string product = bus.new_id();
  bus.send("catalog.commands", "bazaar.catalog.CreateProduct.v1", product,
           {{"product_id", product},
            {"seller_id", seller},
            {"name", "Teapot"},
            {"description", "A pot for tea"},
            {"price", price},
            {"currency", "EUR"},
            {"category", "kitchen"},
            {"initial_stock", stock},
            {"actor_id", seller},
            {"actor_role", "seller"}},
           twice);
  REQUIRE_MESSAGE(
      tests::wait_until(
          30s,
          [&] {
            return scalar(system.db("order"),
                          "SELECT count(*) FROM catalog_prices WHERE product_id = CAST(:p AS uuid)",
                          product) == 1 &&
                   scalar(system.db("inventory"),
                          "SELECT count(*) FROM stock WHERE product_id = CAST(:p AS uuid)",
                          product) == 1;
          }),
      "product " << product << " never reached the order service and inventory");
  return product;
}

namespace {

boost::json::object place_order(const std::string& order, const std::string& buyer,
                                const std::string& product, long long quantity,
                                const std::string& token) {
  return {{"order_id", order},
          {"buyer_id", buyer},
          {"lines", boost::json::array{{{"product_id", product}, {"quantity", quantity}}}},
          {"payment_token", token}};
}

}  // namespace

std::string Shop::place(const std::string& buyer, const std::string& product, long long quantity,
                        const std::string& token, bool twice) {
  const std::string order = bus.new_id();
  bus.send("order.commands", "bazaar.order.PlaceOrder.v1", order,
           place_order(order, buyer, product, quantity, token), twice);
  return order;
}

std::vector<std::string> Shop::place_all(const std::vector<std::string>& buyers,
                                         const std::string& product, long long quantity,
                                         const std::string& token) {
  std::vector<std::string> orders;
  std::vector<std::pair<std::string, boost::json::object>> commands;
  for (const auto& buyer : buyers) {
    orders.push_back(bus.new_id());
    commands.emplace_back(orders.back(),
                          place_order(orders.back(), buyer, product, quantity, token));
  }
  bus.send_all("order.commands", "bazaar.order.PlaceOrder.v1", std::move(commands));
  return orders;
}

std::string Shop::status(const std::string& order_id) {
  std::string s;
  std::string id = order_id;
  soci::indicator ind = soci::i_null;
  system.db("order") << "SELECT status FROM orders WHERE order_id = CAST(:id AS uuid)",
      soci::use(id), soci::into(s, ind);
  return ind == soci::i_ok ? s : std::string{};
}

std::string Shop::reason(const std::string& order_id) {
  std::string s;
  std::string id = order_id;
  soci::indicator ind = soci::i_null;
  system.db("order") << "SELECT reason FROM orders WHERE order_id = CAST(:id AS uuid)",
      soci::use(id), soci::into(s, ind);
  return ind == soci::i_ok ? s : std::string{};
}

std::string Shop::wait_status(const std::string& order_id, const std::set<std::string>& wanted,
                              std::chrono::seconds timeout) {
  std::string last;
  tests::wait_until(timeout, [&] {
    last = status(order_id);
    return wanted.contains(last);
  });
  return last;
}

std::array<long long, 4> Shop::stock(const std::string& product) {
  std::array<long long, 4> v{-1, -1, -1, -1};
  std::string id = product;
  system.db("inventory") << "SELECT available, reserved, sold, on_hand FROM stock WHERE product_id "
                            "= CAST(:id AS uuid)",
      soci::use(id), soci::into(v[0]), soci::into(v[1]), soci::into(v[2]), soci::into(v[3]);
  return v;
}

std::pair<long long, long long> Shop::money(const std::string& order_id) {
  return {scalar(system.db("payment"),
                 "SELECT sum(charged_amount) FROM payments WHERE order_id = CAST(:id AS uuid)",
                 order_id),
          scalar(system.db("payment"),
                 "SELECT sum(refunded_amount) FROM payments WHERE order_id = CAST(:id AS uuid)",
                 order_id)};
}

long long Shop::total(const std::string& order_id) {
  return scalar(system.db("order"), "SELECT total FROM orders WHERE order_id = CAST(:id AS uuid)",
                order_id);
}

long long Shop::notifications(const std::string& order_id, const std::string& kind,
                              const std::string& recipient) {
  std::string k = kind;
  std::string id = order_id;
  std::string to = recipient;
  long long n = 0;
  system.db("notification")
      << "SELECT count(*) FROM notifications WHERE order_id = CAST(:id AS uuid) AND kind = :kind "
         "AND recipient_id = CAST(:to AS uuid)",
      soci::use(id), soci::use(k), soci::use(to), soci::into(n);
  return n;
}

int Shop::check_invariants(const std::vector<std::string>& orders,
                           const std::vector<std::string>& products) {
  static const std::set<std::string> kOutcomes{"CONFIRMED", "SHIPPED", "DELIVERED", "REJECTED",
                                               "CANCELLED"};
  int violations = 0;
  auto expect = [&violations](bool holds, const std::string& what) {
    CHECK_MESSAGE(holds, what);
    violations += holds ? 0 : 1;
  };
  // 2. Every placed order reached exactly one outcome, and its saga waits for nothing.
  for (const auto& o : orders) {
    expect(kOutcomes.contains(wait_status(o, kOutcomes)), "order " + o + " has no outcome");
    expect(scalar(system.db("order"),
                  "SELECT count(*) FROM orders WHERE order_id = CAST(:id AS uuid) AND "
                  "(deadline_at IS NOT NULL OR awaiting_release OR awaiting_refund)",
                  o) == 0,
           "order " + o + " still waits for something");
  }
  // 1. No oversell, stock conserved.
  for (const auto& p : products) {
    const auto [available, reserved, sold, on_hand] = stock(p);
    expect(available >= 0, "product " + p + " has negative stock");
    expect(reserved + sold <= on_hand, "product " + p + " is oversold");
    expect(on_hand == available + reserved + sold, "product " + p + " does not conserve stock");
  }
  // 3. Money: charged - refunded is the total for confirmed orders, zero for the others.
  for (const auto& o : orders) {
    const std::string s = status(o);
    const bool kept = s == "CONFIRMED" || s == "SHIPPED" || s == "DELIVERED";
    expect(tests::wait_until(30s,
                             [&] {
                               const auto [charged, refunded] = money(o);
                               return charged - refunded == (kept ? total(o) : 0);
                             }),
           "order " + o + " (" + s + ") does not balance charges and refunds");
  }
  // 4. Nothing lost: every outbox row of every service was published.
  for (const auto& s : kServices) {
    expect(tests::wait_until(30s,
                             [&] {
                               long long n = 0;
                               system.db(s)
                                   << "SELECT count(*) FROM outbox WHERE published_at IS NULL",
                                   soci::into(n);
                               return n == 0;
                             }),
           s + " left outbox rows unpublished");
  }
  return violations;
}

}  // namespace bazaar::e2e
