// Prints a running broker's request and record counters, read over JMX from its pid:
//   java scripts/kafka/BrokerCounters.java <broker pid>
// One line per counter, "request <api> <count>" (every version of an API summed) and
// "topic <metric> <count>" (the broker-wide BytesIn/BytesOut/MessagesIn totals). The counts
// grow from the broker's start, so a caller reads them twice and takes the difference.
// The broker opens no JMX port: the tool attaches to it (same user) and starts the local
// management agent, which listens on no network interface.
import com.sun.tools.attach.VirtualMachine;
import java.util.Map;
import java.util.TreeMap;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

public class BrokerCounters {
  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: java BrokerCounters.java <broker pid>");
      System.exit(2);
    }
    VirtualMachine vm = VirtualMachine.attach(args[0]);
    String address;
    try {
      address = vm.startLocalManagementAgent();
    } finally {
      vm.detach();
    }
    try (JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(address))) {
      MBeanServerConnection server = connector.getMBeanServerConnection();
      Map<String, Long> counts = new TreeMap<>();
      ObjectName requests =
          new ObjectName("kafka.network:type=RequestMetrics,name=RequestsPerSec,*");
      for (ObjectName name : server.queryNames(requests, null)) {
        String api = name.getKeyProperty("request");
        // The same fetches again, counted by who sent them (a consumer or a follower).
        if (api.equals("FetchConsumer") || api.equals("FetchFollower")) continue;
        long count = ((Number) server.getAttribute(name, "Count")).longValue();
        counts.merge("request " + api, count, Long::sum);
      }
      for (String metric : new String[] {"MessagesInPerSec", "BytesInPerSec", "BytesOutPerSec"}) {
        // Without a topic key: the broker's total over every topic.
        ObjectName total = new ObjectName("kafka.server:type=BrokerTopicMetrics,name=" + metric);
        if (server.isRegistered(total)) {
          counts.put("topic " + metric, ((Number) server.getAttribute(total, "Count")).longValue());
        }
      }
      counts.forEach((key, count) -> System.out.println(key + " " + count));
    }
  }
}
