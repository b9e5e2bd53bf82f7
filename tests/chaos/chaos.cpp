// The chaos matrix: the whole system on free ports under a steady HTTP load (a fixed seed,
// every payment token, cancellations, client retries with the same Idempotency-Key), and one
// fault at a time. After each fault it waits for quiescence, checks the invariants from the
// databases and with `bazaarctl audit`, and prints one row. Run by scripts/chaos; a short
// subset runs in scripts/test.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <signal.h>
#include <soci/soci.h>

#include <atomic>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "bench_util.hpp"
#include "shop_api.hpp"

using namespace bazaar;
using namespace bazaar::e2e;
using namespace std::chrono_literals;
namespace json = boost::json;
using Steady = std::chrono::steady_clock;

namespace {

// The services a fault can hit, edge included.
const std::vector<std::string> kAll{"catalog", "inventory",    "payment",
                                    "order",   "notification", "edge"};
constexpr int kCrashed = 86;  // the exit code of an armed crash point

// Runs scripts/infra with `verb` against the run's broker and database.
void infra(const std::string& verb) {
  const std::string cmd = std::string(BAZAAR_SOURCE_ROOT) + "/scripts/infra " + verb + " >>" +
                          tests::required_env("BAZAAR_RUN_DIR") + "/chaos-infra.log 2>&1";
  REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, "scripts/infra " << verb << " failed");
}

// A steady HTTP load at `rate` orders a second. Order i is the same on every run: its product,
// quantity, payment token, whether the client sends it twice and whether the buyer cancels
// it come from a generator seeded with i.
class Load {
 public:
  Load(Api& api, std::vector<std::string> buyers, std::vector<std::string> products, int rate,
       std::string tag)
      : api_(api),
        buyers_(std::move(buyers)),
        products_(std::move(products)),
        rate_(rate),
        tag_(std::move(tag)) {
    // Idempotency-Keys are visible ASCII: the fault's name without its spaces.
    for (char& c : tag_) {
      if (c == ' ' || c == '#') c = '-';
    }
    start_ = Steady::now();
    for (int w = 0; w < 16; ++w) workers_.emplace_back([this] { work(); });
  }
  ~Load() { stop(); }

  void stop() {
    stop_.store(true);
    for (auto& t : workers_) {
      if (t.joinable()) t.join();
    }
  }
  std::vector<std::string> accepted() const {
    const std::lock_guard lock(mutex_);
    return accepted_;
  }
  int gave_up() const { return gave_up_.load(); }
  int server_errors() const { return server_errors_.load(); }
  int doubled() const { return doubled_.load(); }

 private:
  void work() {
    while (!stop_.load()) {
      const int i = next_++;
      const auto due =
          start_ + std::chrono::microseconds{static_cast<long long>(i) * 1'000'000 / rate_};
      // The load's own pacing (an open-loop schedule), not a synchronisation.
      while (Steady::now() < due) {
        if (stop_.load()) return;
        std::this_thread::sleep_for(5ms);
      }
      place(i);
    }
  }

  void place(int i) {
    std::mt19937 rng(static_cast<std::uint32_t>(1000 + i));
    const auto pick = [&rng](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
    const std::string& product = products_[pick(products_.size())];
    const std::string& buyer = buyers_[pick(buyers_.size())];
    static const char* kTokens[] = {"tok_ok", "tok_ok", "tok_ok",      "tok_ok",    "tok_ok",
                                    "tok_ok", "tok_ok", "tok_decline", "tok_flaky", "tok_timeout"};
    const std::string token = kTokens[pick(10)];
    const int quantity = 1 + static_cast<int>(pick(2));
    const bool twice = pick(10) == 0;
    const bool cancel = pick(20) == 0;
    const bool pay_later = pick(10) == 0;  // placed without a token, paid right after
    json::object body{
        {"lines", json::array{json::object{{"product_id", product}, {"quantity", quantity}}}}};
    if (!pay_later) body["payment_token"] = token;
    const std::string key = "chaos-" + tag_ + "-" + std::to_string(i);
    std::string id = post(body, buyer, key);
    if (id.empty()) return;
    if (twice && post(body, buyer, key) != id) ++doubled_;
    {
      const std::lock_guard lock(mutex_);
      accepted_.push_back(id);
    }
    if (pay_later) pay(id, buyer, token);
    if (cancel) (void)api_.http.post("/orders/" + id + "/cancel", json::object{}, buyer);
  }

  // Pays an order placed without a token; a refusal (409: cancelled or paid meanwhile) is an
  // answer, a dead connection or 503 is tried again for a minute.
  void pay(const std::string& id, const std::string& buyer, const std::string& token) {
    const auto give_up = Steady::now() + 60s;
    while (Steady::now() < give_up && !stop_.load()) {
      const auto r = api_.http.post("/orders/" + id + "/payment",
                                    json::object{{"payment_token", token}}, buyer);
      if (r.status >= 500 && r.status != 503) ++server_errors_;
      if (r.status == 202 || r.status == 409) return;
      std::this_thread::sleep_for(300ms);
    }
  }

  // The order's id once accepted, or empty after a minute of refusals and dead connections.
  std::string post(const json::object& body, const std::string& buyer, const std::string& key) {
    const auto give_up = Steady::now() + 60s;
    while (Steady::now() < give_up) {
      const auto r = api_.http.post("/orders", body, buyer, {{"Idempotency-Key", key}});
      if (r.status == 202 || r.status == 200) return std::string(r.json().at("id").as_string());
      if (r.status >= 500 && r.status != 503) ++server_errors_;
      if (r.status != 0 && r.status != 503 && r.status < 500) {  // refused for good
        if (refused_.fetch_add(1) == 0) {
          std::printf("  an order was refused with %d: %s\n", r.status, r.body.c_str());
        }
        break;
      }
      const int after =
          r.status == 503 ? std::max(1, std::atoi(r.header("retry-after").c_str())) : 0;
      std::this_thread::sleep_for(after > 0 ? std::chrono::milliseconds{after * 1000} : 300ms);
    }
    ++gave_up_;
    return {};
  }

  Api& api_;
  std::vector<std::string> buyers_;
  std::vector<std::string> products_;
  int rate_;
  std::string tag_;
  Steady::time_point start_;
  std::atomic<int> next_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> gave_up_{0};
  std::atomic<int> server_errors_{0};
  std::atomic<int> doubled_{0};
  std::atomic<int> refused_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> accepted_;
  std::vector<std::thread> workers_;
};

// What a fault could not do (a crash point its service never reached), shown in its row.
std::string g_fault_note;  // NOLINT: written by the fault being run, read by its row

struct Fault {
  std::string name;
  std::function<void()> inject;   ///< during the load
  std::function<void()> recover;  ///< brings the system back (restarts what was hit)
};

struct Row {
  std::string fault;
  std::string note;
  std::size_t accepted = 0;
  long long terminal = 0;
  long long stuck = 0;
  int oversold = 0;
  int unbalanced = 0;
  int lost = 0;
  long long unpublished = 0;
  bool audit_ok = false;
  long long dlq = 0;
  double recovery_s = -1;
  int server_errors = 0;
  int doubled = 0;
  bool green() const {
    return accepted > 0 && stuck == 0 && oversold == 0 && unbalanced == 0 && lost == 0 &&
           unpublished == 0 && audit_ok && server_errors == 0 && doubled == 0;
  }
};

long long dead_letters() {
  const Run r = bazaarctl({"dlq", "list", "-o", "json"});
  long long n = 0;
  if (r.code != 0) return -1;
  // JSON Lines: one group of dead letters a line, none when there are none.
  std::istringstream lines(r.stdout_text);
  for (std::string line; std::getline(lines, line);) {
    boost::system::error_code ec;
    const auto g = json::parse(line, ec);
    if (ec || !g.is_object()) return -1;
    n += g.at("count").to_number<long long>();
  }
  return n;
}

// The processes whose memory the soak watches: every service, the broker, the database.
std::map<std::string, int> watched(System& system) {
  std::map<std::string, int> out;
  for (const auto& s : kAll) out[s] = system.pid(s);
  const std::string run = tests::required_env("BAZAAR_RUN_DIR");
  out["kafka"] = bench::pid_in(run + "/kafka/pid");
  out["postgres (postmaster)"] = bench::pid_in(run + "/pg/data/postmaster.pid");
  return out;
}

class Chaos {
 public:
  Chaos()
      : api_(false, {},
             // A declined card waits for the buyer, who never pays again here: the short window
             // cancels it (payment_timeout) within the quiescence wait.
             {{"order",
               {{"BAZAAR_ORDER_PAYMENT_TIMEOUT_MS", "4000"},
                {"BAZAAR_ORDER_PAYMENT_WINDOW_MS", "5000"}}}}) {
    seller_ = api_.user("seller").second;
    fresh_buyers();
    for (int i = 0; i < 3; ++i) products_.push_back(api_.product(seller_, 4.0 + i, 100'000));
  }

  /// New buyers, signed in now: access tokens last 15 minutes, a whole matrix far longer.
  void fresh_buyers() {
    buyers_.clear();
    for (int i = 0; i < 4; ++i) buyers_.push_back(api_.user("buyer").second);
  }

  Api& api() { return api_; }

  /// One order as a buyer places it, answered as it comes.
  HttpResult probe_order() {
    const json::object body{
        {"lines", json::array{json::object{{"product_id", products_[0]}, {"quantity", 1}}}},
        {"payment_token", "tok_ok"}};
    return api_.http.post("/orders", body, buyers_[0]);
  }

  /// Offers far more than the system can take for `span` (admission control keeps it to what
  /// it can finish) and returns the orders it accepted a second: the peak saga rate.
  double peak(std::chrono::seconds span) {
    Load load(api_, buyers_, products_, 200, "peak");
    std::this_thread::sleep_for(span);
    load.stop();
    Row ignored;
    check(load.accepted(), ignored);
    return static_cast<double>(load.accepted().size()) / static_cast<double>(span.count());
  }

  /// Holds `rate` for `span`, sampling the p99 of accepted->settled and the memory of every
  /// process each `every`; prints them and returns the final row.
  Row soak(int rate, std::chrono::seconds span, std::chrono::seconds every) {
    Row row;
    row.fault = "soak";
    const auto rss_start = watched(api_.system);
    std::map<std::string, double> start_mib;
    for (const auto& [name, pid] : rss_start) start_mib[name] = bench::rss_mib(pid);
    std::vector<double> p99s;
    const long long dlq_before = dead_letters();
    std::vector<std::string> ids;
    int server_errors = 0, doubled = 0;
    const auto end = Steady::now() + span;
    // In segments of ten minutes, each with buyers signed in afresh (tokens last 15).
    for (int segment = 0; Steady::now() < end; ++segment) {
      fresh_buyers();
      Load load(api_, buyers_, products_, rate, "soak" + std::to_string(segment));
      const auto segment_end = std::min(end, Steady::now() + std::chrono::minutes{10});
      while (Steady::now() < segment_end) {
        std::this_thread::sleep_for(every);  // the sampling period of the soak
        double p99 = 0;
        soci::indicator ind = soci::i_ok;
        api_.system.db("edge")
            << "SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY "
               "extract(epoch FROM settled_at - created_at) * 1000) "
               "FROM orders_view WHERE settled_at > now() - make_interval(secs => :s)",
            soci::use(static_cast<long long>(every.count())), soci::into(p99, ind);
        p99s.push_back(ind == soci::i_null ? 0 : p99);
        std::printf("  soak: %zu accepted, p99 over the last %llds %.0f ms\n",
                    ids.size() + load.accepted().size(), static_cast<long long>(every.count()),
                    p99s.back());
        std::fflush(stdout);
      }
      load.stop();
      for (const auto& id : load.accepted()) ids.push_back(id);
      server_errors += load.server_errors();
      doubled += load.doubled();
    }
    row.accepted = ids.size();
    row.server_errors = server_errors;
    row.doubled = doubled;
    check(ids, row);
    row.dlq = dead_letters() - dlq_before;
    std::printf("\n| process | RSS start MiB | RSS end MiB |\n|---|---|---|\n");
    for (const auto& [name, pid] : watched(api_.system)) {
      std::printf("| %s | %.1f | %.1f |\n", name.c_str(), start_mib[name], bench::rss_mib(pid));
    }
    if (!p99s.empty()) {
      std::printf("\np99 first %.0f ms, last %.0f ms, drift %+.0f ms\n", p99s.front(), p99s.back(),
                  p99s.back() - p99s.front());
    }
    return row;
  }

  Row run(const Fault& fault, int rate, std::chrono::seconds before, std::chrono::seconds after) {
    Row row;
    row.fault = fault.name;
    fresh_buyers();
    const long long dlq_before = dead_letters();
    Load load(api_, buyers_, products_, rate, fault.name);
    std::this_thread::sleep_for(before);  // the load runs a while before the fault
    g_fault_note.clear();
    fault.inject();
    row.note = g_fault_note;
    fault.recover();
    const auto recovered = Steady::now();
    row.recovery_s = probe(recovered);
    std::this_thread::sleep_for(after);
    load.stop();
    const auto ids = load.accepted();
    row.accepted = ids.size();
    row.server_errors = load.server_errors();
    row.doubled = load.doubled();
    try {
      check(ids, row);
    } catch (const soci::soci_error& e) {
      // The test's own connections died with a database restart: once more on new ones.
      MESSAGE("checking again after: " << std::string(e.what()));
      api_.system.reconnect_dbs();
      check(ids, row);
    }
    const long long dlq_after = dead_letters();
    row.dlq = dlq_before < 0 || dlq_after < 0 ? -1 : dlq_after - dlq_before;
    return row;
  }

 private:
  // Seconds from the recovery until an order placed after it is confirmed. A probe caught by
  // the fault's aftermath (its payment timed out while a group rebalanced) is followed by
  // another, until one confirms or three minutes passed.
  double probe(Steady::time_point from) {
    const json::object body{
        {"lines", json::array{json::object{{"product_id", products_[0]}, {"quantity", 1}}}},
        {"payment_token", "tok_ok"}};
    const auto give_up = from + 180s;
    while (Steady::now() < give_up) {
      const std::string key = "probe-" + api_.bus.new_id();
      std::string id;
      tests::wait_until(60s, [&] {
        const auto r = api_.http.post("/orders", body, buyers_[0], {{"Idempotency-Key", key}});
        if (r.status == 202 || r.status == 200) id = std::string(r.json().at("id").as_string());
        return !id.empty();
      });
      if (id.empty()) continue;
      std::string status;
      tests::wait_until(60s, [&] {
        const auto r = api_.http.get("/orders/" + id, buyers_[0]);
        status = r.status == 200 ? std::string(r.json().at("status").as_string()) : "";
        return status == "CONFIRMED" || status == "REJECTED" || status == "CANCELLED";
      });
      if (status == "CONFIRMED") return std::chrono::duration<double>(Steady::now() - from).count();
    }
    return -1;
  }

  void check(const std::vector<std::string>& ids, Row& row) {
    auto& order_db = api_.system.db("order");
    const std::string list = [&] {
      std::string s = "{";
      for (const auto& id : ids) s += (s.size() > 1 ? "," : "") + id;
      return s + "}";
    }();
    // Quiescence: every accepted order reached the order service, has its outcome and waits
    // for nothing.
    const auto settled = [&] {
      long long n = 0;
      order_db << "SELECT count(*) FROM orders WHERE order_id = ANY(CAST(:ids AS uuid[])) AND "
                  "status IN ('CONFIRMED', 'REJECTED', 'CANCELLED') AND deadline_at IS NULL AND "
                  "NOT awaiting_release AND NOT awaiting_refund",
          soci::use(list), soci::into(n);
      return n;
    };
    tests::wait_until(180s, [&] { return settled() == static_cast<long long>(ids.size()); });
    const long long done = settled();
    long long known = 0;
    order_db << "SELECT count(*) FROM orders WHERE order_id = ANY(CAST(:ids AS uuid[]))",
        soci::use(list), soci::into(known);
    row.lost = static_cast<int>(static_cast<long long>(ids.size()) - known);
    row.terminal = done;
    row.stuck = known - done;
    // Stock is conserved and never oversold.
    for (const auto& p : products_) {
      long long available = 0, reserved = 0, sold = 0, on_hand = 0;
      api_.system.db("inventory")
          << "SELECT available, reserved, sold, on_hand FROM stock WHERE product_id = "
             "CAST(:p AS uuid)",
          soci::use(p), soci::into(available), soci::into(reserved), soci::into(sold),
          soci::into(on_hand);
      if (available < 0 || reserved + sold > on_hand || on_hand != available + reserved + sold) {
        ++row.oversold;
      }
    }
    // Money: charged - refunded is the total of a kept order less its admin refunds, 0 for others.
    std::map<std::string, long long> kept;
    {
      soci::rowset<soci::row> rows =
          (order_db.prepare << "SELECT CAST(order_id AS text), CASE WHEN status IN ('CONFIRMED', "
                               "'SHIPPED', 'DELIVERED') THEN total - refunded ELSE 0 END FROM "
                               "orders WHERE order_id = ANY(CAST(:ids AS uuid[]))",
           soci::use(list));
      for (const auto& r : rows) kept[r.get<std::string>(0)] = r.get<long long>(1);
    }
    const bool balanced = tests::wait_until(30s, [&] {
      std::map<std::string, long long> held;
      soci::rowset<soci::row> rows =
          (api_.system.db("payment").prepare
               << "SELECT CAST(order_id AS text), charged_amount - refunded_amount FROM payments "
                  "WHERE order_id = ANY(CAST(:ids AS uuid[]))",
           soci::use(list));
      for (const auto& r : rows) held[r.get<std::string>(0)] = r.get<long long>(1);
      int wrong = 0;
      for (const auto& [id, total] : kept) {
        const auto it = held.find(id);
        wrong += (it == held.end() ? 0 : it->second) != total;
      }
      row.unbalanced = wrong;
      return wrong == 0;
    });
    (void)balanced;
    // Nothing left unpublished in any outbox.
    row.unpublished = 0;
    for (const auto& s : kAll) {
      long long n = 0;
      tests::wait_until(30s, [&] {
        api_.system.db(s) << "SELECT count(*) FROM outbox WHERE published_at IS NULL",
            soci::into(n);
        return n == 0;
      });
      row.unpublished += n;
    }
    const Run audit = bazaarctl({"audit", "--settle", "5"});
    row.audit_ok = audit.code == 0;
    if (!row.audit_ok) MESSAGE("audit after " << row.fault << ":\n" << audit.out);
  }

  Api api_;
  std::string seller_;
  std::vector<std::string> buyers_;
  std::vector<std::string> products_;
};

// Every fault of the matrix, by name. `probe` is an order a buyer may place at any time.
std::vector<Fault> faults(Api& api, const std::function<HttpResult()>& probe) {
  System& system = api.system;
  std::vector<Fault> out;
  for (const auto& s : kAll) {
    out.push_back(
        {"sigkill " + s, [&system, s] { system.kill(s); }, [&system, s] { system.start(s); }});
  }
  const std::vector<std::pair<std::string, std::vector<std::string>>> points{
      {"after_commit_before_offset", kAll},
      {"between_batch_records", kAll},
      {"relay_after_send", kAll},
      {"relay_after_mark", kAll},
      {"deadline_scan_before_update", {"order"}}};
  for (const auto& [point, services] : points) {
    for (const auto& s : services) {
      out.push_back({"crash " + point + " in " + s,
                     [&system, s, point = point] {
                       system.stop(s);
                       system.start_instance(s, s, {{"BAZAAR_CRASH_AT", point + ":3"}}, false);
                       const int code = system.await_exit(s, 45s);
                       if (code == -1) system.kill(s);
                       CHECK_MESSAGE((code == kCrashed || code == -1),
                                     s << " armed at " << point << " exited with " << code);
                       if (code == -1) g_fault_note = "not reached in 45 s";
                     },
                     [&system, s] { system.start(s); }});
    }
  }
  out.push_back({"sigkill broker",
                 [probe] {
                   infra("kafka-kill");
                   // Edge refuses commands it could only park while the broker is away: 503
                   // with Retry-After, never a 500.
                   HttpResult refused;
                   const bool seen = tests::wait_until(30s, [&] {
                     refused = probe();
                     return refused.status == 503 &&
                            refused.body.find("broker") != std::string::npos;
                   });
                   CHECK_MESSAGE(seen, "no 503 while the broker was down: " << refused.status << " "
                                                                            << refused.body);
                   if (seen) {
                     CHECK(!refused.header("retry-after").empty());
                     CHECK(refused.header("content-type") == "application/problem+json");
                   }
                 },
                 [] { infra("kafka-start"); }});
  out.push_back(
      {"postgres immediate stop", [] { infra("postgres-kill"); }, [] { infra("postgres-start"); }});
  for (const auto& s :
       std::vector<std::string>{"catalog", "inventory", "payment", "order", "notification"}) {
    out.push_back({"second " + s + " started and killed",
                   [&system, s] {
                     system.start_instance(s + "#2", s, {});
                     std::this_thread::sleep_for(4s);  // it takes partitions and works a while
                     system.signal(s + "#2", SIGKILL);
                     system.await_exit(s + "#2", 10s);
                   },
                   [] {}});
  }
  out.push_back({"relay holder frozen",
                 [&system] {
                   system.start_instance("order#2", "order", {});
                   system.signal("order", SIGSTOP);  // the first instance holds the lease
                   std::this_thread::sleep_for(10s);
                 },
                 [&system] {
                   system.signal("order", SIGCONT);
                   system.stop("order#2");
                 }});
  // Both groups of the service: its own topics, and catalog.events in `<service>-catalog`.
  for (const auto& s : std::vector<std::string>{"inventory", "order"}) {
    out.push_back({"groups " + s + " and " + s + "-catalog replayed from the beginning",
                   [&system, s] {
                     system.stop(s);
                     for (const std::string& group : {s, s + "-catalog"}) {
                       const Run r = bazaarctl({"projection", "rebuild", group});
                       CHECK_MESSAGE(r.code == 0, r.out);
                     }
                   },
                   [&system, s] { system.start(s); }});
  }
  out.push_back({"every command duplicated",
                 [] {
                   for (const char* t : {"order.commands", "inventory.commands", "payment.commands",
                                         "catalog.commands"}) {
                     const Run r = bazaarctl({"replay", "--topic", t, "--since", "2m", "--to", t});
                     CHECK_MESSAGE(r.code == 0, r.out);
                   }
                 },
                 [] {}});
  return out;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

}  // namespace

TEST_CASE("chaos") {
  const int rate = bench::env_int("BAZAAR_CHAOS_RATE", 10);
  const auto before = std::chrono::seconds{bench::env_int("BAZAAR_CHAOS_BEFORE_S", 3)};
  const auto after = std::chrono::seconds{bench::env_int("BAZAAR_CHAOS_AFTER_S", 4)};
  const char* wanted_env = std::getenv("BAZAAR_CHAOS_FAULTS");
  const std::vector<std::string> wanted = split(wanted_env != nullptr ? wanted_env : "");
  Chaos chaos;
  std::vector<Row> rows;
  if (const int soak_s = bench::env_int("BAZAAR_CHAOS_SOAK_S", 0); soak_s > 0) {
    const double peak = chaos.peak(20s);
    const int soak_rate = std::max(1, static_cast<int>(peak * 0.7));
    std::printf("peak %.1f orders/s; soaking at %d orders/s for %d s\n", peak, soak_rate, soak_s);
    std::fflush(stdout);
    rows.push_back(chaos.soak(soak_rate, std::chrono::seconds{soak_s},
                              std::chrono::seconds{std::clamp(soak_s / 10, 10, 60)}));
  }
  for (const auto& f : faults(chaos.api(), [&chaos] { return chaos.probe_order(); })) {
    if (bench::env_int("BAZAAR_CHAOS_SOAK_S", 0) > 0) break;
    if (!wanted.empty()) {
      bool match = false;
      for (const auto& w : wanted) match = match || f.name.find(w) != std::string::npos;
      if (!match) continue;
    }
    std::printf("fault: %s ...\n", f.name.c_str());
    std::fflush(stdout);
    rows.push_back(chaos.run(f, rate, before, after));
    const Row& r = rows.back();
    std::printf(
        "  %s accepted=%zu terminal=%lld stuck=%lld oversold=%d unbalanced=%d lost=%d "
        "unpublished=%lld audit=%s 5xx=%d doubled=%d dlq=%lld recovery_s=%.1f\n",
        r.green() ? "ok" : "FAILED", r.accepted, r.terminal, r.stuck, r.oversold, r.unbalanced,
        r.lost, r.unpublished, r.audit_ok ? "ok" : "FAIL", r.server_errors, r.doubled, r.dlq,
        r.recovery_s);
    std::fflush(stdout);
  }
  std::printf(
      "\n| fault | accepted | terminal | stuck | oversold | unbalanced | lost | "
      "unpublished | audit | 5xx | doubled | DLQ | recovery s |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  int red = 0;
  for (const auto& r : rows) {
    red += r.green() ? 0 : 1;
    std::printf("| %s | %zu | %lld | %lld | %d | %d | %d | %lld | %s | %d | %d | %lld | %.1f |\n",
                (r.note.empty() ? r.fault : r.fault + " (" + r.note + ")").c_str(), r.accepted,
                r.terminal, r.stuck, r.oversold, r.unbalanced, r.lost, r.unpublished,
                r.audit_ok ? "ok" : "FAIL", r.server_errors, r.doubled, r.dlq, r.recovery_s);
  }
  std::printf("\nfaults=%zu red=%d\n", rows.size(), red);
  CHECK(red == 0);
  CHECK_FALSE(rows.empty());
}

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  return context.run();
}
