// Runs the CLI from src/ (through tsx), so the generator tests never measure a stale dist/.
import { main } from '../../src/cli/main.js';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
process.exitCode = await main(process.argv);
