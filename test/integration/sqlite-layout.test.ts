import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { expect } from 'chai'
import { runCommand } from '../helpers/run-command.js'

const run = promisify(execFile)

const SITE_SQL = 'CREATE TABLE site (\n  key VARCHAR(128) ,\n  value TEXT,\n  comments TEXT,\n  disable TEXT,\n  PRIMARY KEY (key)\n)'

const NODELIST_SQL =
  'CREATE TABLE nodelist (\n  node VARCHAR(128) ,\n  groups TEXT,\n  status TEXT,\n  statustime TEXT,\n  appstatus TEXT,\n  appstatustime TEXT,\n  primarysn TEXT,\n' +
  '  hidden TEXT,\n  updatestatus TEXT,\n  updatestatustime TEXT,\n  zonename TEXT,\n  comments TEXT,\n  disable TEXT,\n  PRIMARY KEY (node)\n)'

const NODERES_SQL =
  'CREATE TABLE noderes (\n  node VARCHAR(128) ,\n  servicenode TEXT,\n  netboot TEXT,\n  tftpserver TEXT,\n  tftpdir TEXT,\n  nfsserver TEXT,\n  monserver TEXT,\n' +
  '  nfsdir TEXT,\n  installnic TEXT,\n  primarynic TEXT,\n  discoverynics TEXT,\n  cmdinterface TEXT,\n  xcatmaster TEXT,\n  current_osimage TEXT,\n  next_osimage TEXT,\n' +
  '  nimserver TEXT,\n  routenames TEXT,\n  nameservers TEXT,\n  proxydhcp TEXT,\n  syslog TEXT,\n  comments TEXT,\n  disable TEXT,\n  PRIMARY KEY (node)\n)'

async function sqlite3(file: string, sql: string): Promise<string> {
  return (await run('sqlite3', [file, sql])).stdout
}

async function tableSql(dir: string, table: string): Promise<string> {
  return sqlite3(join(dir, `${table}.sqlite`), "SELECT sql FROM sqlite_master WHERE type = 'table'")
}

describe('sqlite: xCAT\'s /etc/xcat layout', function () {
  this.timeout(60_000)

  before(async function () {
    try {
      await run('sqlite3', ['-version'])
    } catch {
      throw new Error('the sqlite3 command-line tool is needed for these tests')
    }
  })

  describe('a directory written by xCAT', () => {
    let dir: string
    const cmd = (name: string, ...argv: string[]) => runCommand(`SQLite:${dir}`, name, argv)

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'xcat-layout-'))
      await sqlite3(
        join(dir, 'site.sqlite'),
        [
          SITE_SQL,
          "INSERT INTO site (key, value, comments, disable) VALUES ('master', '10.0.0.1', NULL, NULL)",
          "INSERT INTO site (key, value, comments, disable) VALUES ('xcatdport', '3001', NULL, NULL)",
          "INSERT INTO site (key, value, comments, disable) VALUES ('oldkey', 'gone', 'retired', '1')",
          "INSERT INTO site (key, value, comments, disable) VALUES ('domain', 'cluster.net', 'says \"hi\", twice', NULL)",
          "INSERT INTO site (key) VALUES ('novalue')",
          "INSERT INTO site (key, value) VALUES ('motd', 'line1\nline2')",
          '',
        ].join(';\n'),
      )
      await sqlite3(
        join(dir, 'nodelist.sqlite'),
        [
          NODELIST_SQL,
          "INSERT INTO nodelist (node, groups, status) VALUES ('n01', 'compute,all', NULL)",
          "INSERT INTO nodelist (node, groups, status) VALUES ('n02', 'compute,all', 'booted')",
          "INSERT INTO nodelist (node, groups, disable) VALUES ('n03', 'compute,all', '1')",
          "INSERT INTO nodelist (node, groups, hidden) VALUES ('mn', '__mgmtnode', '1')",
          '',
        ].join(';\n'),
      )
      await sqlite3(
        join(dir, 'noderes.sqlite'),
        [
          NODERES_SQL,
          "INSERT INTO noderes (node, netboot, tftpserver) VALUES ('compute', 'xnba', '|n(\\d+)|10.0.0.($1+100)|')",
          "INSERT INTO noderes (node, netboot) VALUES ('n02', 'grub2')",
          '',
        ].join(';\n'),
      )
    })
    after(() => rmSync(dir, { recursive: true, force: true }))

    it('tabdump prints xCAT\'s rows in insertion order, disabled rows, NULLs and quotes included', async () => {
      expect(await cmd('tabdump', 'site')).to.deep.equal({
        code: 0,
        stdout: [
          '#key,value,comments,disable',
          '"master","10.0.0.1",,',
          '"xcatdport","3001",,',
          '"oldkey","gone","retired","1"',
          '"domain","cluster.net","says ""hi"", twice",',
          '"novalue",,,',
          '"motd","line1\nline2",,',
          '',
        ].join('\n'),
        stderr: '',
      })
    })

    it('nodels lists the enabled nodes, hides hidden ones and refuses disabled ones', async () => {
      expect(await cmd('nodels')).to.deep.equal({ code: 0, stdout: 'n01\nn02\n', stderr: '' })
      expect(await cmd('nodels', 'all')).to.deep.equal({ code: 0, stdout: 'n01\nn02\n', stderr: '' })
      expect(await cmd('nodels', 'n03')).to.deep.equal({ code: 1, stdout: '', stderr: 'Error: Invalid nodes and/or groups in noderange: n03\n' })
    })

    it('nodels resolves a regex value inherited from a group row', async () => {
      expect(await cmd('nodels', 'compute', 'noderes.tftpserver', 'noderes.netboot')).to.deep.equal({
        code: 0,
        stdout: 'n01: noderes.netboot: xnba\nn01: noderes.tftpserver: 10.0.0.101\nn02: noderes.netboot: grub2\nn02: noderes.tftpserver: 10.0.0.102\n',
        stderr: '',
      })
    })

    it('lsdef shows a node with its own and inherited attributes', async () => {
      expect(await cmd('lsdef', 'n01')).to.deep.equal({ code: 0, stdout: 'Object name: n01\n    groups=compute,all\n    netboot=xnba\n    tftpserver=10.0.0.101\n', stderr: '' })
      expect((await cmd('lsdef', 'n02')).stdout).to.equal('Object name: n02\n    groups=compute,all\n    netboot=grub2\n    status=booted\n    tftpserver=10.0.0.102\n')
    })

    it('writes rows that xCAT\'s sqlite3 reads, leaving the table definitions alone', async () => {
      expect((await cmd('nodech', 'n01', 'noderes.netboot=pxe', 'groups=compute,all,rack1')).code).to.equal(0)
      expect((await cmd('chtab', 'key=master', 'site.value=10.0.0.2')).code).to.equal(0)
      expect(await sqlite3(join(dir, 'noderes.sqlite'), "SELECT node, netboot, tftpserver FROM noderes WHERE node = 'n01'")).to.equal('n01|pxe|\n')
      expect(await sqlite3(join(dir, 'nodelist.sqlite'), "SELECT groups FROM nodelist WHERE node = 'n01'")).to.equal('compute,all,rack1\n')
      expect(await sqlite3(join(dir, 'site.sqlite'), "SELECT * FROM site WHERE key = 'master'")).to.equal('master|10.0.0.2||\n')
      expect(await tableSql(dir, 'site')).to.equal(`${SITE_SQL}\n`)
      expect(await tableSql(dir, 'nodelist')).to.equal(`${NODELIST_SQL}\n`)
      expect(await tableSql(dir, 'noderes')).to.equal(`${NODERES_SQL}\n`)
    })

    it('leaves only .sqlite files behind once the commands are done', () => {
      expect(readdirSync(dir).filter((f) => !f.endsWith('.sqlite'))).to.deep.equal([])
    })
  })

  describe('a directory written by our commands', () => {
    let dir: string
    const cmd = (name: string, ...argv: string[]) => runCommand(`SQLite:${dir}`, name, argv)

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'xcat-layout-'))
      for (const [name, ...argv] of [
        ['xcatconfig', '-d'],
        ['nodeadd', 'node[01-02]', 'groups=compute,all', 'nodehm.mgt=ipmi', 'noderes.netboot=xnba'],
        ['mkdef', '-t', 'osimage', '-o', 'img1', 'imagetype=Linux', 'provmethod=sysclone'],
        ['chtab', 'key=system,username=root', 'passwd.password=cluster'],
      ]) {
        const res = await cmd(name ?? '', ...argv)
        expect(res.code, `${name} ${argv.join(' ')}: ${res.stderr}`).to.equal(0)
      }
    })
    after(() => rmSync(dir, { recursive: true, force: true }))

    it('creates site exactly as xCAT does, byte for byte, without IF NOT EXISTS', async () => {
      expect(await sqlite3(join(dir, 'site.sqlite'), 'select sql from sqlite_master')).to.equal(`${SITE_SQL}\n\n`)
      expect(await tableSql(dir, 'site')).to.equal(`${SITE_SQL}\n`)
    })

    it('creates nodelist and noderes exactly as xCAT does', async () => {
      expect(await tableSql(dir, 'nodelist')).to.equal(`${NODELIST_SQL}\n`)
      expect(await tableSql(dir, 'noderes')).to.equal(`${NODERES_SQL}\n`)
    })

    it('has the same schema objects as a table made by xCAT\'s own statement', async () => {
      const reference = mkdtempSync(join(tmpdir(), 'xcat-layout-ref-'))
      try {
        await sqlite3(join(reference, 'site.sqlite'), SITE_SQL)
        const objects = 'SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name'
        expect(await sqlite3(join(dir, 'site.sqlite'), objects)).to.equal(await sqlite3(join(reference, 'site.sqlite'), objects))
      } finally {
        rmSync(reference, { recursive: true, force: true })
      }
    })

    it('stores the rows xcatconfig -d and the node commands wrote', async () => {
      expect(await sqlite3(join(dir, 'site.sqlite'), "select * from site where key='xcatdport'")).to.equal('xcatdport|3001||\n')
      expect(await sqlite3(join(dir, 'nodelist.sqlite'), 'SELECT node, groups, disable FROM nodelist ORDER BY node')).to.equal('node01|compute,all|\nnode02|compute,all|\n')
      expect(await sqlite3(join(dir, 'nodehm.sqlite'), 'SELECT node, mgt FROM nodehm ORDER BY node')).to.equal('node01|ipmi\nnode02|ipmi\n')
      expect(await sqlite3(join(dir, 'osimage.sqlite'), 'SELECT imagename, imagetype, provmethod FROM osimage')).to.equal('img1|Linux|sysclone\n')
      expect(await sqlite3(join(dir, 'passwd.sqlite'), 'SELECT key, username, password FROM passwd')).to.equal('system|root|cluster\n')
    })

    it('keeps NULL apart from the empty string', async () => {
      expect(await sqlite3(join(dir, 'site.sqlite'), "SELECT comments IS NULL, disable IS NULL FROM site WHERE key = 'xcatdport'")).to.equal('1|1\n')
    })

    it('puts each table in its own <table>.sqlite file holding that one table', async () => {
      const files = readdirSync(dir).sort()
      expect(files).to.include.members(['site.sqlite', 'nodelist.sqlite', 'noderes.sqlite', 'nodehm.sqlite', 'osimage.sqlite', 'passwd.sqlite', 'policy.sqlite', 'postscripts.sqlite'])
      for (const file of files) {
        expect(file).to.match(/^[a-z]+\.sqlite$/)
        const table = file.replace(/\.sqlite$/, '')
        expect(await sqlite3(join(dir, file), "SELECT name FROM sqlite_master WHERE type = 'table'"), file).to.equal(`${table}\n`)
        expect(await sqlite3(join(dir, file), 'SELECT DISTINCT tbl_name FROM sqlite_master'), file).to.equal(`${table}\n`)
        expect(await sqlite3(join(dir, file), `SELECT substr(sql, 1, ${`CREATE TABLE ${table} (`.length}) FROM sqlite_master WHERE type = 'table'`), file).to.equal(`CREATE TABLE ${table} (\n`)
        expect(await sqlite3(join(dir, file), 'PRAGMA integrity_check'), file).to.equal('ok\n')
      }
    })

    it('writes what our own tabdump reads back', async () => {
      expect((await cmd('tabdump', '-w', 'key==xcatdport', 'site')).stdout).to.equal('#key,value,comments,disable\n"xcatdport","3001",,\n')
    })
  })
})
