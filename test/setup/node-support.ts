// The project's Node.js decision (cli/node-support.ts) holds in tests too: on Node 20 the AWS SDK's warning
// about its future releases is switched off before any client is created.
import '../../cli/node-support';
