import { xcatdMain } from '../lib/server/main.js'

await xcatdMain()
