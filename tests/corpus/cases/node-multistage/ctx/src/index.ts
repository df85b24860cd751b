import { route } from './lib/router';
route('/health');
